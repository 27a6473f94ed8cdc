/*
 * Putting todos in order: by dragging a todo's body (pointer events, so touch too), by
 * Alt+ArrowUp and Alt+ArrowDown on its toggle, Edit or move buttons, and with its "Move up" and
 * "Move down" buttons (the same buttons as without JavaScript). Each move goes through the queue,
 * is said to screen readers ("“Milk” moved to position 2 of 5") and can be undone. Moving is off
 * while a filter other than All is shown, and the page says why.
 *
 * Interface (app.order):
 *   refresh()             shows each todo's move buttons as its place allows
 *   announcePlace(model)  says where a todo now is
 */
var app = app || {};

app.order = (function () {
  'use strict';

  var list = document.querySelector('.todo-list');
  var note = document.querySelector('.move-note');
  var DRAG_AFTER_PX = 6;

  function enabled() {
    return app.page.canEdit && !app.TodoFilter;
  }

  function modelOf(li) {
    return li && app.todos.get(li.dataset.id) ||
      (li && app.todos.get(Number(li.dataset.id)));
  }

  function items() {
    return Array.prototype.slice.call(list.children).filter(function (li) {
      return li.tagName === 'LI';
    });
  }

  function refresh() {
    var on = enabled();
    if (note) {
      note.hidden = on || !app.page.canEdit;
    }
    var all = items();
    all.forEach(function (li, index) {
      var up = li.querySelector('.move-up');
      var down = li.querySelector('.move-down');
      if (up) {
        up.hidden = !on || index === 0;
        down.hidden = !on || index === all.length - 1;
      }
      li.classList.toggle('movable', on);
    });
  }

  function announcePlace(model) {
    var index = app.todos.indexOf(model);
    app.announce('“' + model.get('title') + '” moved to position ' + (index + 1) + ' of ' +
      app.todos.length);
  }

  /* Moves `model` to `index` in the list (0: first), and records it for undo. */
  function moveTo(model, index) {
    var from = app.todos.indexOf(model);
    if (index === from || index < 0 || index >= app.todos.length) {
      return false;
    }
    var before = from > 0 ? app.todos.at(from - 1).id : null;
    var others = app.todos.filter(function (other) { return other !== model; });
    var after = index > 0 ? others[index - 1].id : null;
    app.queue.move(model, after);
    announcePlace(model);
    app.undo.moved(model, before, 'Moved “' + model.get('title') + '” to position ' +
      (app.todos.indexOf(model) + 1) + ' of ' + app.todos.length + '.');
    return true;
  }

  /* The element of the item that had focus, found again after the item moved. */
  function keepFocus(li, work) {
    var focused = li.contains(document.activeElement) ? document.activeElement : null;
    var which = focused ? focused.className.split(' ')[0] : null;
    work();
    if (which) {
      var again = li.querySelector('.' + which);
      if (again && !again.hidden) {
        again.focus();
      } else {
        li.querySelector('.toggle').focus();
      }
    }
  }

  function step(li, by) {
    var model = modelOf(li);
    if (!model) {
      return;
    }
    if (!enabled()) {
      app.announce('Todos can be moved only while all of them are shown');
      return;
    }
    keepFocus(li, function () { moveTo(model, app.todos.indexOf(model) + by); });
  }

  list.addEventListener('keydown', function (event) {
    if (!event.altKey || (event.key !== 'ArrowUp' && event.key !== 'ArrowDown') ||
        !event.target.closest('.toggle, .edit-link, .move-up, .move-down')) {
      return;
    }
    event.preventDefault();
    step(event.target.closest('li'), event.key === 'ArrowUp' ? -1 : 1);
  });

  list.addEventListener('click', function (event) {
    var button = event.target.closest('.move-up, .move-down');
    if (!button) {
      return;
    }
    event.preventDefault(); // the form is for pages without JavaScript
    step(button.closest('li'), button.classList.contains('move-up') ? -1 : 1);
  });

  /* ---- Dragging ---- */

  var drag = null;

  function clearMarks() {
    items().forEach(function (li) { li.classList.remove('drop-before', 'drop-after'); });
  }

  /* Where a drop at height `y` puts the dragged todo: its index among all the todos. */
  function dropPlace(dragged, y) {
    var others = items().filter(function (li) { return li !== dragged && !li.hidden; });
    for (var i = 0; i < others.length; i++) {
      var box = others[i].getBoundingClientRect();
      if (y < box.top + box.height / 2) {
        return { mark: others[i], side: 'drop-before', index: i };
      }
    }
    var last = others[others.length - 1];
    return last ? { mark: last, side: 'drop-after', index: others.length } : null;
  }

  list.addEventListener('pointerdown', function (event) {
    var label = event.target.closest('li > .view > label');
    if (!label || !event.isPrimary || event.button !== 0 || !enabled()) {
      return;
    }
    var li = label.closest('li');
    if (li.classList.contains('editing')) {
      return;
    }
    drag = { li: li, y: event.clientY, id: event.pointerId, moving: false };
  });

  list.addEventListener('pointermove', function (event) {
    if (!drag || event.pointerId !== drag.id) {
      return;
    }
    if (!drag.moving) {
      if (Math.abs(event.clientY - drag.y) < DRAG_AFTER_PX) {
        return;
      }
      drag.moving = true;
      list.setPointerCapture(event.pointerId);
      drag.li.classList.add('dragging');
      list.classList.add('dragging-in');
    }
    event.preventDefault();
    clearMarks();
    var place = dropPlace(drag.li, event.clientY);
    if (place) {
      place.mark.classList.add(place.side);
    }
  });

  function endDrag(event, drop) {
    if (!drag || event.pointerId !== drag.id) {
      return;
    }
    var ended = drag;
    drag = null;
    clearMarks();
    list.classList.remove('dragging-in');
    ended.li.classList.remove('dragging');
    if (!ended.moving || !drop) {
      return;
    }
    var place = dropPlace(ended.li, event.clientY) || { index: 0 };
    var model = modelOf(ended.li);
    if (model) {
      moveTo(model, place.index);
    }
  }

  list.addEventListener('pointerup', function (event) { endDrag(event, true); });
  list.addEventListener('pointercancel', function (event) { endDrag(event, false); });

  return { refresh: refresh, announcePlace: announcePlace };
})();
