/*
 * The change log: this page's queued changes, oldest first, and the list as the server holds it
 * (as far as this page knows: the page's data, then the live updates and the answers). What the
 * page shows is the second with the first applied on top (`shown`).
 *
 * Interface (app.changeLog):
 *   newKey()               a random 128-bit key, as hex
 *   all()                  the queued changes, oldest first (read only: change them through here)
 *   waiting()              how many are queued
 *   add(change)            queues one at the end
 *   remove(gone)           takes these out of the queue
 *   prepend(older)         puts changes taken over from a closed page before this page's own
 *   has(change)            whether it is still queued
 *   forget()               empties the queue (signing out)
 *   changesFor(id)         a todo's queued changes, oldest first
 *   openChangeFor(id)      its last change, if unsent and able to absorb another
 *   neverSent(id)          a todo created here that the server has not heard of
 *   newestId()             the highest id the server's list holds
 *   laterOf(change)        the change and the later ones of its todo
 *   conflicts()            the changes a 412 holds
 *   shown()                the server's list with the queue applied, in list order
 *   echoesOfCreates()      server todos taken to be the echo of a sent create, by id
 *   deletedHere(id, todo)  whether this page's own changes account for the todo's deletion
 *   server()               the server's list: { change, todos: { id: todo } }
 *   setServer(list)        starts from a rendered list ({ change, todos: [...] })
 *   useServer(kept)        starts from a kept server list instead
 *   clearAnswered()        a "clear completed" of this page was just answered
 */
var app = app || {};

app.changeLog = (function () {
  'use strict';

  // How long after a "clear completed" is answered its deletions may still come down the stream.
  var OWN_ECHO_MS = 5000;

  var changes = [];
  var server = { change: 0, todos: {} };
  var lastClearAnswered = -Infinity;

  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return (b + 256).toString(16).slice(1);
    }).join('');
  }

  function isTemporary(id) {
    return typeof id === 'string';
  }

  function changesFor(id) {
    return changes.filter(function (change) { return change.id === id; });
  }

  /*
   * The last queued change of a todo if it has never gone out, and so may still absorb another.
   * Once sent, a change is sealed: its retries must be the same request under the same key.
   */
  function openChangeFor(id) {
    var mine = changesFor(id);
    var last = mine[mine.length - 1];
    return last && !last.sent && !last.conflict && last.seq !== undefined &&
      (last.kind === 'create' || last.kind === 'update') ? last : null;
  }

  /* A todo created here that the server has not heard of yet: its changes can simply go. */
  function neverSent(id) {
    var mine = changesFor(id);
    return isTemporary(id) && mine.length > 0 && !mine[0].sent;
  }

  function newestId() {
    return Object.keys(server.todos).reduce(function (max, id) {
      return Math.max(max, Number(id));
    }, 0);
  }

  /*
   * The live stream may bring a create's echo before its answer (or the answer was lost). Until
   * an answer maps the temporary id, a todo newer than the change with the same title is taken
   * to be that echo.
   */
  function echoesOfCreates() {
    var echoes = {};
    changes.forEach(function (change) {
      if (change.kind !== 'create' || !change.sent) {
        return;
      }
      var echo = Object.keys(server.todos).find(function (id) {
        return !echoes[id] && Number(id) > change.newerThan &&
          server.todos[id].title === change.attrs.title;
      });
      if (echo) {
        echoes[echo] = true;
      }
    });
    return echoes;
  }

  /* The server's list with the queued changes applied, in list order. */
  function shown() {
    var todos = {};
    var last = 0;
    var echoes = echoesOfCreates();
    Object.keys(server.todos).forEach(function (id) {
      var todo = server.todos[id];
      last = Math.max(last, todo.order);
      if (!echoes[id]) {
        todos[id] = Object.assign({}, todo, { pending: false });
      }
    });
    changes.forEach(function (change) {
      var todo = todos[change.id];
      if (change.kind === 'create') {
        todos[change.id] = Object.assign({ id: change.id, order: ++last }, change.attrs,
          { pending: true });
      } else if (change.kind === 'update' && todo) {
        Object.assign(todo, change.attrs, { pending: true });
      } else if (change.kind === 'move' && todo) {
        todo.order = orderAfter(todos, change.id, change.attrs.after);
        todo.pending = true;
      } else if (change.kind === 'restore' && !todo) {
        todos[change.id] = Object.assign({ id: change.id }, change.attrs, { pending: true });
      } else if (change.kind === 'delete') {
        delete todos[change.id];
      } else if (change.kind === 'clear') {
        Object.keys(todos).forEach(function (id) {
          if (todos[id].completed) {
            delete todos[id];
          }
        });
      }
    });
    return Object.keys(todos).map(function (id) { return todos[id]; });
  }

  /*
   * An order that puts todo `id` just after todo `after` (first when `after` is null) among
   * `todos`, as the server will: between its new neighbours'. The page only sorts by it; the
   * server's answer brings the real one.
   */
  function orderAfter(todos, id, after) {
    var list = Object.keys(todos).map(function (key) { return todos[key]; })
      .filter(function (todo) { return todo.id !== id; })
      .sort(function (a, b) { return a.order - b.order || (a.id < b.id ? -1 : 1); });
    var index = 0;
    if (after !== null && after !== undefined) {
      index = list.findIndex(function (todo) { return todo.id === after; }) + 1;
      if (index === 0) {
        return todos[id].order; // its neighbour is gone: the server will say
      }
    }
    var previous = list[index - 1];
    var next = list[index];
    if (previous && next) {
      return (previous.order + next.order) / 2;
    }
    return previous ? previous.order + 1 : (next ? next.order - 1 : 0);
  }

  /*
   * Whether this page's own changes account for the deletion of `todo`, whatever the order in
   * which the stream and the answers arrive: a change of it is queued (its delete, or an edit the
   * delete overtook), or a "clear completed" of this page is queued or was answered a moment ago
   * and the todo was completed.
   */
  function deletedHere(id, todo) {
    if (changesFor(id).length) {
      return true;
    }
    var clearing = changes.some(function (change) { return change.kind === 'clear'; }) ||
      Date.now() - lastClearAnswered < OWN_ECHO_MS;
    return clearing && todo.completed;
  }

  return {
    newKey: newKey,
    all: function () { return changes; },
    waiting: function () { return changes.length; },
    add: function (change) { changes.push(change); },
    remove: function (gone) {
      changes = changes.filter(function (change) { return gone.indexOf(change) < 0; });
    },
    prepend: function (older) { changes = older.concat(changes); },
    has: function (change) { return changes.indexOf(change) >= 0; },
    forget: function () { changes = []; },
    changesFor: changesFor,
    openChangeFor: openChangeFor,
    neverSent: neverSent,
    newestId: newestId,
    laterOf: function (change) {
      return changes.slice(changes.indexOf(change)).filter(function (other) {
        return other.id === change.id;
      });
    },
    conflicts: function () {
      return changes.filter(function (change) { return change.conflict; });
    },
    shown: shown,
    echoesOfCreates: echoesOfCreates,
    deletedHere: deletedHere,
    server: function () { return server; },
    setServer: function (list) {
      server = { change: list.change, todos: {} };
      list.todos.forEach(function (todo) { server.todos[todo.id] = todo; });
    },
    useServer: function (kept) { server = kept; },
    clearAnswered: function () { lastClearAnswered = Date.now(); }
  };
})();
