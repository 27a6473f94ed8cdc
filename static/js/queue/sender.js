/*
 * The sender: sends the queued changes in order, each with its Idempotency-Key (and If-Match for
 * the version it was made against), at most PARALLEL at a time and one per todo, and retries with
 * backoff while the server is out of reach.
 *
 * Interface (app.sender):
 *   use(answers)    how answers are handled: { saved(change, todo), conflicted(change, current),
 *                   refused(change, body, status), unauthorized(), replayed(), stopped(),
 *                   statusChanged() }
 *   pump()          sends what may go now
 *   kick()          the server may be back: drops the wait before the next try
 *   unreachable()   whether the last try found the server out of reach
 */
var app = app || {};

app.sender = (function () {
  'use strict';

  var PARALLEL = 4;
  var TIMEOUT_MS = 15000;
  var RETRY_FIRST_MS = 1000;
  var RETRY_MAX_MS = 30000;

  var log = app.changeLog;
  var answers = null;
  var inFlight = {};      // key -> true while its request is out
  var retryDelay = 0;
  var retryTimer = null;
  var unreachable = false;

  /*
   * Sends what may go now: not before an earlier change of the same todo, a create not before an
   * earlier create (the list keeps the order they were made in), and nothing past a "clear".
   */
  function pump() {
    if (answers.stopped() || retryTimer) {
      return;
    }
    var changes = log.all();
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
    answers.statusChanged();
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
    } else if (change.kind === 'move') {
      options.url = app.todos.url + change.id + '/move';
      options.type = 'POST';
    } else if (change.kind === 'restore') {
      // Undo of a delete: the todo comes back under its id, only if it is not there.
      options.url = app.todos.url + change.id;
      options.type = 'PUT';
      headers['If-None-Match'] = '*';
    } else {
      options.url = app.todos.url + '?completed=true';
      options.type = 'DELETE';
    }
    if (change.kind !== 'delete' && change.kind !== 'clear') {
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
          answers.replayed();
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
    if (!log.has(change) || answers.stopped()) {
      return; // dropped meanwhile (the user took the server's version), or signed out
    }
    var status = xhr.status;
    if ((status >= 200 && status < 300) || (change.kind === 'delete' && status === 404)) {
      answers.saved(change, body);
    } else if (status === 401) {
      answers.unauthorized();
      return;
    } else if (status === 412 && body && body.current) {
      answers.conflicted(change, body.current);
    } else if (notReached(status)) {
      retryLater(xhr);
      return;
    } else {
      answers.refused(change, body, status);
    }
    unreachable = false;
    retryDelay = 0;
    pump();
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
    answers.statusChanged();
  }

  return {
    use: function (handlers) { answers = handlers; },
    pump: pump,
    kick: function () {
      if (retryTimer) {
        clearTimeout(retryTimer);
        retryTimer = null;
        unreachable = false;
      }
    },
    unreachable: function () { return unreachable; }
  };
})();
