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

  function listen(name, apply) {
    source.addEventListener(name, function (event) {
      lastId = event.lastEventId;
      apply(JSON.parse(event.data), event.lastEventId);
    });
  }

  function showStatus(down) {
    status.hidden = !down;
  }

  /* EventSource gives up on an answer other than 200: find out whether the session ended. */
  function closed() {
    Backbone.ajax({ url: app.page.todos, type: 'HEAD' })
      .done(function () {
        // Readable still: the stream may have ended because the caller's role changed.
        app.lists.refresh();
        setTimeout(connect, 2000);
      })
      .fail(function (xhr) {
        if (xhr.status === 401) {
          app.signInAgain();
        } else if (xhr.status === 404) {
          app.lists.lost(false); // taken off the list, or it was deleted
        } else {
          setTimeout(connect, 2000);
        }
      });
  }

  function connect() {
    source = new EventSource(app.page.events + '?last_event_id=' + encodeURIComponent(lastId));
    // What the server holds; the queue shows it with the user's unsaved changes on top.
    listen('upsert', app.queue.serverUpsert);
    listen('delete', function (data, id) { app.queue.serverRemove(data.id, id); });
    listen('reset', app.queue.serverReset);
    // The caller's lists changed (one shared with them, renamed, taken away): no id, no data.
    source.addEventListener('lists', app.lists.refresh);
    source.onopen = function () {
      showStatus(false);
      app.queue.kick(); // the server is back: queued changes need not wait for their retry
    };
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
