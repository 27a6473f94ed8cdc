/*
 * Live updates: the server's changes to this list, applied as they come. The stream starts at the
 * change number the page was rendered at, so nothing falls between the two; after a cut,
 * EventSource reconnects by itself and sends the last id it saw, and the server replays what was
 * missed.
 */
var app = app || {};

(function () {
  'use strict';

  var status = document.querySelector('.live-status');
  var lastId = null;
  var source = null;

  /* A change for a todo that is being edited waits until the edit ends. */
  function deferIfEditing(model, change) {
    if (model && model.editing) {
      model.deferred = change;
      return true;
    }
    return false;
  }

  function upsert(data) {
    var model = app.todos.get(data.id);
    if (model && model.get('version') >= data.version) {
      return; // Our own write's echo, or older than what we have.
    }
    if (deferIfEditing(model, { upsert: data })) {
      return;
    }
    if (model) {
      var moved = model.get('order') !== data.order;
      model.set(data);
      if (moved) {
        app.todos.sort();
      }
    } else {
      app.todos.add(data);
    }
  }

  function remove(id) {
    var model = app.todos.get(id);
    if (!model || deferIfEditing(model, { remove: true })) {
      return;
    }
    app.todos.remove(model);
  }

  function reset(list) {
    var present = {};
    list.forEach(function (data) {
      present[data.id] = true;
      upsert(data);
    });
    app.todos.filter(function (model) {
      return !model.isNew() && !present[model.id];
    }).forEach(function (model) { remove(model.id); });
  }

  /* Called when an edit ends: a change that arrived meanwhile applies now, unless the user saved
   * their own title, whose save is conditional on the version they edited and so meets the
   * usual conflict answer instead of silently overwriting or being overwritten. */
  app.editEnded = function (model, saved) {
    var change = model.deferred;
    model.deferred = null;
    if (!change || saved) {
      return;
    }
    if (change.remove) {
      app.todos.remove(model);
    } else {
      upsert(change.upsert);
    }
  };

  function listen(name, apply) {
    source.addEventListener(name, function (event) {
      lastId = event.lastEventId;
      apply(JSON.parse(event.data));
    });
  }

  function showStatus(down) {
    status.hidden = !down;
  }

  /* EventSource gives up on an answer other than 200: find out whether the session ended. */
  function closed() {
    Backbone.ajax({ url: '/todos/', type: 'HEAD' })
      .done(function () { setTimeout(connect, 2000); })
      .fail(function (xhr) {
        if (xhr.status === 401) {
          app.signInAgain();
        } else {
          setTimeout(connect, 2000);
        }
      });
  }

  function connect() {
    source = new EventSource('/todos/events?last_event_id=' + encodeURIComponent(lastId));
    listen('upsert', upsert);
    listen('delete', function (data) { remove(data.id); });
    listen('reset', reset);
    source.onopen = function () { showStatus(false); };
    source.onerror = function () {
      showStatus(true);
      if (source.readyState === EventSource.CLOSED) {
        closed();
      }
    };
  }

  app.startLiveUpdates = function (since) {
    lastId = since;
    connect();
  };
})();
