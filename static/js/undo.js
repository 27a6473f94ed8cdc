/*
 * Undo: the last 20 of this page's own actions (delete, clear completed, toggle, toggle all, edit
 * and move), each taken back exactly. After an action the undo bar the server renders says what
 * happened, with its Undo button, for 10 seconds or until the next action, and as long as the
 * keyboard is inside it. Ctrl+Z (Cmd+Z on macOS), outside a text field, undoes the last action.
 *
 * An undo is a change like any other (queued, kept offline, sent once with its own key), made
 * only if nobody changed the todo since: else the page says so and nothing is forced.
 *
 * Interface (app.undo):
 *   deleted(todos, message)             todos (attribute snapshots) were deleted
 *   changed(steps, message)             steps: [{ model, before, after }]: the attributes the
 *                                       action changed, and the todo's title and state after it
 *                                       (an undo is refused if they are not what the todo shows)
 *   moved(model, after, message)        model was moved; `after` is the todo it followed before
 *   undoLast()                          takes back the last action
 */
var app = app || {};

app.undo = (function () {
  'use strict';

  var KEEP = 20;
  var SHOW_MS = 10000;

  var bar = document.querySelector('.undo-bar');
  var message = bar.querySelector('.undo-message');
  var form = bar.querySelector('.undo-form');
  var actions = [];
  var hideTimer = null;

  function show(text) {
    message.textContent = text;
    form.hidden = false;
    bar.classList.add('shown');
    clearTimeout(hideTimer);
    if (!bar.contains(document.activeElement)) {
      hideTimer = setTimeout(hide, SHOW_MS);
    }
  }

  function hide() {
    clearTimeout(hideTimer);
    if (bar.contains(document.activeElement)) {
      var field = document.querySelector('.new-todo');
      if (field) {
        field.focus();
      }
    }
    message.textContent = '';
    form.hidden = true;
    bar.classList.remove('shown');
  }

  function record(action) {
    actions.push(action);
    if (actions.length > KEEP) {
      actions.shift();
    }
    show(action.message);
  }

  function same(model, values) {
    return Object.keys(values).every(function (key) {
      return model.get(key) === values[key];
    });
  }

  function undoChanges(steps) {
    var refused = steps.filter(function (step) {
      var model = app.todos.get(step.model.id);
      return !model || !same(model, step.after);
    });
    if (refused.length) {
      var todo = app.todos.get(refused[0].model.id);
      return todo ? '“' + todo.get('title') + '” was changed elsewhere since, so nothing was undone'
        : 'A todo it changed was deleted since, so nothing was undone';
    }
    steps.forEach(function (step) {
      app.queue.update(app.todos.get(step.model.id), step.before, true);
    });
    return null;
  }

  function undoDelete(todos) {
    todos.forEach(function (todo) {
      if (typeof todo.id === 'string') {
        // Never reached the server: it is simply made again.
        app.queue.create({ title: todo.title, completed: todo.completed, order: todo.order });
      } else if (!app.todos.get(todo.id)) {
        app.queue.restore(todo);
      }
    });
    return null;
  }

  function undoMove(action) {
    var model = app.todos.get(action.id);
    if (!model) {
      return 'It was deleted since, so it was not moved back';
    }
    var after = action.after;
    if (after !== null && !app.todos.get(after)) {
      after = null; // the todo it followed is gone: back to the top
    }
    app.queue.move(model, after, true);
    app.order.announcePlace(model);
    return null;
  }

  function undoLast() {
    var action = actions.pop();
    if (!action) {
      app.announce('Nothing to undo');
      return;
    }
    var refusal = action.undo();
    hide();
    if (refusal) {
      app.showError(refusal + '.');
    } else {
      app.announce('Undone: ' + action.message.replace(/\.$/, ''));
    }
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault(); // the page without JavaScript posts it; here the queue does the work
    undoLast();
  });
  bar.addEventListener('focusin', function () { clearTimeout(hideTimer); });
  bar.addEventListener('focusout', function (event) {
    if (!bar.contains(event.relatedTarget) && bar.classList.contains('shown')) {
      hideTimer = setTimeout(hide, SHOW_MS);
    }
  });

  function inTextField(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  document.addEventListener('keydown', function (event) {
    var mac = /Mac|iPhone|iPad/.test(navigator.platform);
    var modifier = mac ? event.metaKey : event.ctrlKey;
    if (modifier && !event.shiftKey && !event.altKey && event.key.toLowerCase() === 'z' &&
        !inTextField(document.activeElement) && app.page.canEdit) {
      event.preventDefault();
      undoLast();
    }
  });

  return {
    deleted: function (todos, text) {
      record({ message: text, undo: function () { return undoDelete(todos); } });
    },
    changed: function (steps, text) {
      if (steps.length) {
        record({ message: text, undo: function () { return undoChanges(steps); } });
      }
    },
    moved: function (model, after, text) {
      var action = { id: model.id, after: after };
      record({ message: text, undo: function () { return undoMove(action); } });
    },
    undoLast: undoLast
  };
})();
