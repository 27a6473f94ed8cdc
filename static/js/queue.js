/*
 * Every change the user makes goes through this queue. It is shown at once, kept in IndexedDB
 * (app.Store) until the server has answered it, and sent in order: each todo's changes one after
 * another, each with an Idempotency-Key so that a replay after a lost answer is applied once.
 *
 * The rooms it is built from: the change log and what the page shows (queue/changes.js), the
 * sender (queue/sender.js), the status line (queue/status.js) and the other open pages
 * (queue/tabs.js). This file is the queue's interface, app.queue, and what an answer does to the
 * log.
 */
var app = app || {};

(function () {
  'use strict';

  var log = app.changeLog;
  var sender = app.sender;
  var store = null;
  var stopped = false;
  var saveServerTimer = null;

  /*
   * Brings app.todos in line with what the page shows. A todo being edited is left as it is until
   * the edit ends: a change pushed meanwhile shows then (or the save meets the conflict flow).
   */
  function refresh() {
    var list = log.shown();
    var present = {};
    var moved = false;
    list.forEach(function (attrs) {
      present[attrs.id] = true;
      var model = app.todos.get(attrs.id);
      if (!model) {
        app.todos.add(attrs);
      } else if (!model.editing) {
        moved = moved || model.get('order') !== attrs.order;
        model.set(attrs);
      }
    });
    app.todos.filter(function (model) {
      return !present[model.id] && !model.editing;
    }).forEach(function (model) { app.todos.remove(model); });
    if (moved) {
      app.todos.sort();
    }
    showStatus();
    app.showConflicts(log.conflicts(), log.shown());
  }

  function showStatus() {
    app.syncStatus.show(log.waiting(), sender.unreachable());
  }

  /* ---- Making changes ---- */

  function enqueue(change) {
    change.key = log.newKey();
    change.tab = app.tabs.id();
    log.add(change);
    store.add(change).then(sender.pump);
    refresh();
    return change;
  }

  /* Drops queued changes that have not gone out; the server never hears of them. */
  function drop(gone) {
    log.remove(gone);
    store.replace(gone, []);
  }

  /* The version a change of `model` is made against: what the user sees, unless an earlier change
   * of theirs is still queued, whose answer will say. */
  function baseFor(id, model) {
    return log.changesFor(id).length ? null : model.get('version');
  }

  /*
   * Each change-making call returns the queued change (an undo of it needs its answer), and takes
   * `undo`: true for a change that takes back an earlier one, which a conflict drops rather than
   * asks about (undo is never forced over someone else's change).
   */
  app.queue = {
    create: function (attrs) {
      return enqueue({
        kind: 'create', id: 'new-' + log.newKey(), attrs: attrs, base: null,
        newerThan: log.newestId()
      });
    },

    update: function (model, attrs, undo) {
      var open = log.openChangeFor(model.id);
      if (open) {
        Object.assign(open.attrs, attrs);
        open.undo = open.undo && undo;
        store.put(open);
        refresh();
        return open;
      }
      return enqueue({
        kind: 'update', id: model.id, attrs: attrs, base: baseFor(model.id, model), undo: !!undo,
        seen: { title: model.get('title'), completed: model.get('completed') }
      });
    },

    /* Puts the todo just after todo `after` (null: first). */
    move: function (model, after, undo) {
      return enqueue({
        kind: 'move', id: model.id, attrs: { after: after }, base: baseFor(model.id, model),
        undo: !!undo
      });
    },

    /* Brings back a todo this page deleted, under its id: { id, title, completed, order }. */
    restore: function (todo) {
      return enqueue({
        kind: 'restore', id: todo.id, base: null, undo: true,
        attrs: { title: todo.title, completed: todo.completed, order: todo.order }
      });
    },

    destroy: function (model) {
      if (log.neverSent(model.id)) {
        // Created and deleted before the server heard of it: nothing to send.
        drop(log.changesFor(model.id));
        refresh();
        return;
      }
      return enqueue({
        kind: 'delete', id: model.id, attrs: {}, base: baseFor(model.id, model)
      });
    },

    clearCompleted: function () {
      app.todos.completed().forEach(function (model) {
        if (log.neverSent(model.id)) {
          drop(log.changesFor(model.id));
        }
      });
      return enqueue({ kind: 'clear', id: null, attrs: {}, base: null });
    },

    /* An edit ended: show what arrived meanwhile. */
    editEnded: function () {
      refresh();
    },

    /* The server may be back (the browser is online, the live stream reconnected): try now. */
    kick: function () {
      sender.kick();
      adoptOrphans().then(sender.pump);
    },

    /* The queued changes a conflict holds: keep the user's version, or take the server's. */
    keepMine: function (change) {
      change.base = change.conflict.version;
      change.key = log.newKey(); // a new request: the old key's answer was the conflict
      delete change.conflict;
      store.put(change).then(sender.pump);
      refresh();
    },

    takeTheirs: function (change) {
      drop(log.laterOf(change));
      refresh();
      sender.pump();
    },

    /* ---- What the server says, from the live stream ---- */

    serverUpsert: function (todo, change) {
      var server = log.server();
      var known = server.todos[todo.id];
      if (!known || known.version < todo.version) {
        server.todos[todo.id] = todo;
        if (change && !log.changesFor(todo.id).length && !log.echoesOfCreates()[todo.id]) {
          announceChange(known, todo);
        }
      }
      serverChanged(change);
    },

    serverRemove: function (id, change) {
      var server = log.server();
      var known = server.todos[id];
      delete server.todos[id];
      if (known && change && !log.deletedHere(id, known)) {
        app.announce('“' + known.title + '” was deleted elsewhere');
      }
      serverChanged(change);
    },

    serverReset: function (list, change) {
      var server = log.server();
      var todos = {};
      list.forEach(function (todo) {
        var known = server.todos[todo.id];
        todos[todo.id] = known && known.version > todo.version ? known : todo;
      });
      server.todos = todos;
      serverChanged(change);
    },

    /* Unsent changes, for the sign-out question. */
    waiting: function () {
      return log.waiting();
    },

    /* Signing out: this user's queue and kept list go. */
    forget: function () {
      stopped = true;
      log.forget();
      return store ? store.forget() : Promise.resolve();
    },

    /*
     * Starts on the page's list, or the kept one where that is newer (a page the service worker
     * kept while offline), with this user's queued changes on top. Resolves to the change number
     * the live stream starts at.
     */
    start: function (user, page) {
      store = new app.Store(user);
      log.setServer(page);
      window.addEventListener('online', app.queue.kick);
      window.addEventListener('offline', showStatus);
      return store.load().then(function (kept) {
        if (kept.server && kept.server.change > log.server().change) {
          log.useServer(kept.server);
        }
        return adopt(kept.changes);
      }).catch(function (err) {
        window.console.error('the kept changes could not be read', err);
      }).then(function () {
        refresh();
        sender.pump();
        return log.server().change;
      });
    }
  };

  /* Tells screen readers what someone else changed (the page shows it already). */
  function announceChange(before, after) {
    if (!before) {
      app.announce('“' + after.title + '” was added elsewhere');
    } else if (before.title !== after.title) {
      app.announce('“' + before.title + '” was renamed “' + after.title + '” elsewhere');
    } else if (before.completed !== after.completed) {
      app.announce('“' + after.title + '” was marked ' +
        (after.completed ? 'complete' : 'not complete') + ' elsewhere');
    }
  }

  /* Changes of one commit (a renumbered list, say) come as several events: the page shows them
   * together, once they have all been read, so that it never shows half of them. */
  var refreshTimer = null;

  function serverChanged(change) {
    if (change) {
      log.server().change = Number(change);
    }
    if (!refreshTimer) {
      refreshTimer = setTimeout(function () {
        refreshTimer = null;
        refresh();
      }, 0);
    }
    keepServer();
  }

  /* The list as the server holds it, kept for opening offline (written at most every 200 ms). */
  function keepServer() {
    if (saveServerTimer) {
      return;
    }
    saveServerTimer = setTimeout(function () {
      saveServerTimer = null;
      if (!stopped) {
        store.saveServer(log.server());
      }
    }, 200);
  }

  /* ---- Other pages' changes ---- */

  /* Takes over, oldest first, the kept changes of pages that are gone (see app.tabs). */
  function adopt(kept) {
    return app.tabs.orphans(kept).then(function (gone) {
      var mine = {};
      log.all().forEach(function (change) { mine[change.key] = true; });
      // Never this page's own: a change of it that is not in the log has been answered already
      // (and is being deleted from the store). Taken over, it would be sent again beside the
      // todo's next change, and its old answer would become that change's base (a 412).
      var orphans = gone.filter(function (change) { return !mine[change.key]; });
      if (!orphans.length) {
        return;
      }
      orphans.forEach(function (change) {
        change.tab = app.tabs.id();
        change.sent = true; // it may have gone out before the page went away
      });
      log.prepend(orphans);
      store.replace([], orphans);
    });
  }

  function adoptOrphans() {
    if (!store || stopped) {
      return Promise.resolve();
    }
    return store.load().then(function (kept) { return adopt(kept.changes); }).then(refresh);
  }

  /* ---- Answers ---- */

  /* The server has it: out of the queue, into what the server holds. */
  function saved(change, todo) {
    var server = log.server();
    var gone = [change];
    var changed = [];
    var id = change.id;
    if (change.kind === 'create') {
      var model = app.todos.get(id);
      if (model && app.todos.get(todo.id)) {
        app.todos.remove(model); // its echo is on the page already
      } else if (model) {
        model.set({ id: todo.id });
      }
      log.changesFor(id).forEach(function (other) {
        other.id = todo.id;
        changed.push(other);
      });
      id = todo.id;
    }
    log.remove(gone);
    change.answer = todo; // for an undo of it
    if (change.kind !== 'delete' && change.kind !== 'clear') {
      var known = server.todos[id];
      if (!known || known.version <= todo.version) {
        server.todos[id] = todo;
      }
      var next = log.changesFor(id)[0];
      if (next && next.base === null && next.kind !== 'create') {
        next.base = todo.version;
        if (changed.indexOf(next) < 0) {
          changed.push(next);
        }
      }
    } else if (change.kind === 'delete') {
      delete server.todos[id];
    } else {
      log.clearAnswered();
      Object.keys(server.todos).forEach(function (key) {
        if (server.todos[key].completed) {
          delete server.todos[key];
        }
      });
    }
    store.replace(gone, changed);
    keepServer();
    refresh();
  }

  /* Whether the server's todo differs from what the user saw when making `change` only in its
   * place (the list was renumbered by a move): nothing they see changed. */
  function movedOnly(change, current) {
    var seen = change.seen;
    return !!seen && seen.title === current.title && seen.completed === current.completed;
  }

  /* 412: someone changed the todo meanwhile. A move is made again from where the todo is now;
   * an undo is dropped, and the user told; a change to a todo that was only moved elsewhere is
   * sent again; for the rest the user chooses, and the todo's queue waits. */
  function conflicted(change, current) {
    if (change.kind === 'move' || (!change.undo && movedOnly(change, current))) {
      log.server().todos[current.id] = current;
      app.queue.keepMine(Object.assign(change, { conflict: current }));
      return;
    }
    if (change.undo) {
      log.server().todos[current.id] = current;
      drop(log.laterOf(change).filter(function (later) { return later.undo; }));
      app.showError('“' + current.title + '” was changed elsewhere since, so it was not undone.');
      keepServer();
      refresh();
      return;
    }
    app.announce('“' + current.title + '” was changed elsewhere while your change waited. ' +
      'Choose which version stays.');
    change.conflict = current;
    log.server().todos[current.id] = current;
    store.put(change);
    keepServer();
    refresh();
  }

  /* A final refusal (400, 404, 422, …): the change is dropped, the user told why, and the list
   * shown as the server holds it. */
  function refused(change, body, status) {
    if (status === 403) {
      app.lists.lost(true); // a viewer now: every queued change would be refused the same way
      return;
    }
    if (status === 404 && change.kind !== 'delete') {
      // A todo gone, or the whole list out of reach? The list answers which. What was waiting
      // is counted now, before this change is dropped.
      var unsaved = log.waiting();
      Backbone.ajax({ url: app.todos.url, type: 'HEAD' }).fail(function (xhr) {
        if (xhr.status === 404) {
          app.lists.lost(false, unsaved);
        }
      });
    }
    if (change.undo || change.kind === 'restore') {
      drop([change]);
      app.showError('Could not undo: ' + (body && body.error ? body.error : 'the server answered ' +
        status) + '.');
      reread();
      refresh();
      return;
    }
    var later = log.changesFor(change.id).slice(1);
    var gone = [change];
    if (change.kind === 'create') {
      gone = gone.concat(later); // the todo never came to be
      app.giveBackTitle(change.attrs.title);
    } else if (later.length && later[0].base === null) {
      later[0].base = change.base;
      store.put(later[0]);
    }
    drop(gone);
    var reason = body && body.error ? body.error : 'the server answered ' + status;
    app.showError('Your change was not saved: ' + reason + '.');
    reread();
    refresh();
  }

  /* The list as the server holds it now. jQuery sends the ETag of the last answer
   * (If-None-Match), and a 304 means the page has it already. */
  function reread() {
    Backbone.ajax({ url: app.todos.url, dataType: 'json', ifModified: true })
      .done(function (list, status) {
        if (status !== 'notmodified' && list) {
          app.queue.serverReset(list);
        }
      });
  }

  sender.use({
    saved: saved,
    conflicted: conflicted,
    refused: refused,
    unauthorized: function () {
      stopped = true;
      app.signInAgain();
    },
    replayed: reread,
    stopped: function () { return stopped; },
    statusChanged: showStatus
  });
})();
