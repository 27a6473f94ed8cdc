/*
 * Every change the user makes goes through this queue. It is shown at once, kept in IndexedDB
 * (app.Store) until the server has answered it, and sent in order: each todo's changes one after
 * another, each with an Idempotency-Key so that a replay after a lost answer is applied once.
 *
 * The list on screen is always what the server holds (as far as this page knows: the page's data,
 * then the live updates and the answers) with the queued changes applied on top.
 */
var app = app || {};

(function () {
  'use strict';

  var PARALLEL = 4;
  var TIMEOUT_MS = 15000;
  var RETRY_FIRST_MS = 1000;
  var RETRY_MAX_MS = 30000;
  var SAVING_SHOWN_AFTER_MS = 400;
  // How long after a "clear completed" is answered its deletions may still come down the stream.
  var OWN_ECHO_MS = 5000;

  var store = null;
  var tab = newKey();
  var changes = [];       // this page's queued changes, oldest first
  var inFlight = {};      // key -> true while its request is out
  var server = { change: 0, todos: {} };
  var retryDelay = 0;
  var retryTimer = null;
  var unreachable = false;
  var stopped = false;
  var savingTimer = null;
  var saveServerTimer = null;
  var lastClearAnswered = -Infinity;

  var statusLine = document.querySelector('.sync-status');

  /* A random key: 128 bits from the platform's generator, as hex. */
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

  /* ---- What the page shows ---- */

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
   * Brings app.todos in line with `shown()`. A todo being edited is left as it is until the edit
   * ends: a change pushed meanwhile shows then (or the save meets the conflict flow).
   */
  function refresh() {
    var list = shown();
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
    app.showConflicts(changes.filter(function (change) { return change.conflict; }), shown());
  }

  /* "Offline: N changes waiting", "Saving…", or nothing once all is saved. */
  function showStatus() {
    var waiting = changes.length;
    if (!waiting) {
      clearTimeout(savingTimer);
      savingTimer = null;
      statusLine.hidden = true;
      statusLine.textContent = '';
      return;
    }
    if (unreachable || !navigator.onLine) {
      clearTimeout(savingTimer);
      savingTimer = null;
      statusLine.textContent = 'Offline: ' + waiting + (waiting === 1 ? ' change' : ' changes') +
        ' waiting';
      statusLine.hidden = false;
      return;
    }
    if (!statusLine.hidden) {
      statusLine.textContent = 'Saving…';
    } else if (!savingTimer) {
      // A save that is quick shows nothing; one that takes a while says so.
      savingTimer = setTimeout(function () {
        savingTimer = null;
        if (changes.length) {
          statusLine.textContent = 'Saving…';
          statusLine.hidden = false;
        }
      }, SAVING_SHOWN_AFTER_MS);
    }
  }

  /* ---- Making changes ---- */

  function enqueue(change) {
    change.key = newKey();
    change.tab = tab;
    changes.push(change);
    store.add(change).then(pump);
    refresh();
  }

  /* Drops queued changes that have not gone out; the server never hears of them. */
  function drop(gone) {
    changes = changes.filter(function (change) { return gone.indexOf(change) < 0; });
    store.replace(gone, []);
  }

  /* The version a change of `model` is made against: what the user sees, unless an earlier change
   * of theirs is still queued, whose answer will say. */
  function baseFor(id, model) {
    return changesFor(id).length ? null : model.get('version');
  }

  app.queue = {
    create: function (attrs) {
      enqueue({
        kind: 'create', id: 'new-' + newKey(), attrs: attrs, base: null, newerThan: newestId()
      });
    },

    update: function (model, attrs) {
      var open = openChangeFor(model.id);
      if (open) {
        Object.assign(open.attrs, attrs);
        store.put(open);
        refresh();
        return;
      }
      enqueue({ kind: 'update', id: model.id, attrs: attrs, base: baseFor(model.id, model) });
    },

    destroy: function (model) {
      if (neverSent(model.id)) {
        // Created and deleted before the server heard of it: nothing to send.
        drop(changesFor(model.id));
        refresh();
        return;
      }
      enqueue({ kind: 'delete', id: model.id, attrs: {}, base: baseFor(model.id, model) });
    },

    clearCompleted: function () {
      app.todos.completed().forEach(function (model) {
        if (neverSent(model.id)) {
          drop(changesFor(model.id));
        }
      });
      enqueue({ kind: 'clear', id: null, attrs: {}, base: null });
    },

    /* An edit ended: show what arrived meanwhile. */
    editEnded: function () {
      refresh();
    },

    /* The server may be back (the browser is online, the live stream reconnected): try now. */
    kick: function () {
      if (retryTimer) {
        clearTimeout(retryTimer);
        retryTimer = null;
        unreachable = false;
      }
      adoptOrphans().then(pump);
    },

    /* The queued changes a conflict holds: keep the user's version, or take the server's. */
    keepMine: function (change) {
      change.base = change.conflict.version;
      change.key = newKey(); // a new request: the old key's answer was the conflict
      delete change.conflict;
      store.put(change).then(pump);
      refresh();
    },

    takeTheirs: function (change) {
      var later = changes.slice(changes.indexOf(change)).filter(function (other) {
        return other.id === change.id;
      });
      drop(later);
      refresh();
      pump();
    },

    /* ---- What the server says, from the live stream ---- */

    serverUpsert: function (todo, change) {
      var known = server.todos[todo.id];
      if (!known || known.version < todo.version) {
        server.todos[todo.id] = todo;
        if (change && !changesFor(todo.id).length && !echoesOfCreates()[todo.id]) {
          announceChange(known, todo);
        }
      }
      serverChanged(change);
    },

    serverRemove: function (id, change) {
      var known = server.todos[id];
      delete server.todos[id];
      if (known && change && !deletedHere(id, known)) {
        app.announce('“' + known.title + '” was deleted elsewhere');
      }
      serverChanged(change);
    },

    serverReset: function (list, change) {
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
      return changes.length;
    },

    /* Signing out: this user's queue and kept list go. */
    forget: function () {
      stopped = true;
      changes = [];
      return store ? store.forget() : Promise.resolve();
    },

    /*
     * Starts on the page's list, or the kept one where that is newer (a page the service worker
     * kept while offline), with this user's queued changes on top. Resolves to the change number
     * the live stream starts at.
     */
    start: function (user, page) {
      store = new app.Store(user);
      setServer(page);
      window.addEventListener('online', app.queue.kick);
      window.addEventListener('offline', showStatus);
      return store.load().then(function (kept) {
        if (kept.server && kept.server.change > server.change) {
          server = kept.server;
        }
        return adopt(kept.changes);
      }).catch(function (err) {
        window.console.error('the kept changes could not be read', err);
      }).then(function () {
        refresh();
        pump();
        return server.change;
      });
    }
  };

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

  function setServer(list) {
    server = { change: list.change, todos: {} };
    list.todos.forEach(function (todo) { server.todos[todo.id] = todo; });
  }

  function serverChanged(change) {
    if (change) {
      server.change = Number(change);
    }
    refresh();
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
        store.saveServer(server);
      }
    }, 200);
  }

  /* ---- Other pages' changes ---- */

  /*
   * Each page holds a Web Lock for as long as it is open. Queued changes whose page is gone (it
   * was reloaded, closed, or crashed) are taken over, oldest first; those of another open page
   * stay with it.
   */
  var tabLock = 'todomvc-page-' + tab;
  if (navigator.locks) {
    navigator.locks.request(tabLock, function () { return new Promise(function () {}); });
  }

  function openPages() {
    if (!navigator.locks) {
      return Promise.resolve(null);
    }
    return navigator.locks.query().then(function (state) {
      var held = {};
      state.held.forEach(function (lock) { held[lock.name] = true; });
      return held;
    });
  }

  function adopt(kept) {
    return openPages().then(function (held) {
      var mine = {};
      changes.forEach(function (change) { mine[change.key] = true; });
      // Never this page's own: a change of it that is not in `changes` has been answered already
      // (and is being deleted from the store). Taken over, it would be sent again beside the
      // todo's next change, and its old answer would become that change's base (a 412).
      var orphans = kept.filter(function (change) {
        return change.tab !== tab && !mine[change.key] &&
          (!held || !held['todomvc-page-' + change.tab]);
      });
      if (!orphans.length) {
        return;
      }
      orphans.forEach(function (change) {
        change.tab = tab;
        change.sent = true; // it may have gone out before the page went away
      });
      changes = orphans.concat(changes);
      store.replace([], orphans);
    });
  }

  function adoptOrphans() {
    if (!store || stopped) {
      return Promise.resolve();
    }
    return store.load().then(function (kept) { return adopt(kept.changes); }).then(refresh);
  }

  /* ---- Sending ---- */

  /*
   * Sends what may go now: not before an earlier change of the same todo, a create not before an
   * earlier create (the list keeps the order they were made in), and nothing past a "clear".
   */
  function pump() {
    if (stopped || retryTimer) {
      return;
    }
    // A todo with a change out waits, wherever that change stands in the queue: one request per
    // todo at a time, each made against the version its predecessor's answer gave.
    var busy = {};
    changes.forEach(function (change) {
      if (inFlight[change.key]) {
        busy[change.id] = true;
      }
    });
    var earlier = false;
    var creating = false;
    var barrier = false;
    var out = Object.keys(inFlight).length;
    for (var i = 0; i < changes.length && out < PARALLEL && !barrier; i++) {
      var change = changes[i];
      var ready = change.seq !== undefined && !inFlight[change.key] && !change.conflict &&
        !busy[change.id] && (change.kind !== 'clear' || !earlier) &&
        (change.kind !== 'create' || !creating);
      if (ready) {
        send(change);
        out++;
      }
      busy[change.id] = true;
      earlier = true;
      creating = creating || change.kind === 'create';
      barrier = change.kind === 'clear';
    }
    showStatus();
  }

  function request(change) {
    var headers = { 'Idempotency-Key': change.key };
    if (change.base !== null && change.base !== undefined) {
      headers['If-Match'] = '"' + change.base + '"';
    }
    var options = { headers: headers, timeout: TIMEOUT_MS, dataType: 'json' };
    if (change.kind === 'create') {
      options.url = app.todos.url;
      options.type = 'POST';
    } else if (change.kind === 'update') {
      options.url = app.todos.url + change.id;
      options.type = 'PATCH';
    } else if (change.kind === 'delete') {
      options.url = app.todos.url + change.id;
      options.type = 'DELETE';
    } else {
      options.url = app.todos.url + '?completed=true';
      options.type = 'DELETE';
    }
    if (change.kind === 'create' || change.kind === 'update') {
      options.contentType = 'application/json';
      options.data = JSON.stringify(change.attrs);
    }
    return Backbone.ajax(options);
  }

  function send(change) {
    inFlight[change.key] = true;
    change.sent = true;
    request(change)
      .done(function (body, _text, xhr) {
        answered(change, xhr, body);
        if (xhr.getResponseHeader('Idempotent-Replayed')) {
          // The answer kept from the first time, not the list as it is now: read it again.
          reread();
        }
      })
      .fail(function (xhr) { answered(change, xhr, xhr.responseJSON); });
  }

  /* Not reached: no answer, a timeout, the server or a proxy failing, or "not yet". */
  function notReached(status) {
    return status === 0 || status === 408 || status === 409 || status === 429 || status >= 500;
  }

  function answered(change, xhr, body) {
    delete inFlight[change.key];
    if (changes.indexOf(change) < 0 || stopped) {
      return; // dropped meanwhile (the user took the server's version), or signed out
    }
    var status = xhr.status;
    if ((status >= 200 && status < 300) || (change.kind === 'delete' && status === 404)) {
      saved(change, body);
    } else if (status === 401) {
      stopped = true;
      app.signInAgain();
      return;
    } else if (status === 412 && body && body.current) {
      conflicted(change, body.current);
    } else if (notReached(status)) {
      retryLater(xhr);
      return;
    } else {
      refused(change, body, status);
    }
    unreachable = false;
    retryDelay = 0;
    pump();
  }

  /* The server has it: out of the queue, into what the server holds. */
  function saved(change, todo) {
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
      changes.forEach(function (other) {
        if (other.id === id) {
          other.id = todo.id;
          changed.push(other);
        }
      });
      id = todo.id;
    }
    changes.splice(changes.indexOf(change), 1);
    if (change.kind === 'create' || change.kind === 'update') {
      var known = server.todos[id];
      if (!known || known.version <= todo.version) {
        server.todos[id] = todo;
      }
      var next = changesFor(id)[0];
      if (next && next.base === null && next.kind !== 'create') {
        next.base = todo.version;
        if (changed.indexOf(next) < 0) {
          changed.push(next);
        }
      }
    } else if (change.kind === 'delete') {
      delete server.todos[id];
    } else {
      lastClearAnswered = Date.now();
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

  /* 412: someone changed the todo meanwhile. The user chooses; the todo's queue waits. */
  function conflicted(change, current) {
    app.announce('“' + current.title + '” was changed elsewhere while your change waited. ' +
      'Choose which version stays.');
    change.conflict = current;
    server.todos[current.id] = current;
    store.put(change);
    keepServer();
    refresh();
  }

  /* A final refusal (400, 404, 422, …): the change is dropped, the user told why, and the list
   * shown as the server holds it. */
  function refused(change, body, status) {
    var later = changesFor(change.id).slice(1);
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

  function retryLater(xhr) {
    unreachable = true;
    var after = Number(xhr.getResponseHeader && xhr.getResponseHeader('Retry-After')) * 1000;
    if (!retryTimer) {
      retryDelay = Math.min(RETRY_MAX_MS, retryDelay ? retryDelay * 2 : RETRY_FIRST_MS);
      var delay = Math.max(after || 0, retryDelay) * (0.75 + Math.random() / 2);
      retryTimer = setTimeout(function () {
        retryTimer = null;
        unreachable = false; // "Saving…" while it tries again
        pump();
      }, delay);
    }
    showStatus();
  }
})();
