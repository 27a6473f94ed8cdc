/* Starts the app on the todos the server put in the page: no second fetch, no redraw. */
var app = app || {};

(function () {
  'use strict';

  var errorBox = document.querySelector('.sync-error');

  /*
   * The session is over (expired, or signed out in another tab): go to the sign-in page, which
   * comes back to this list afterwards.
   */
  app.signInAgain = function () {
    var here = window.location.pathname + window.location.search + window.location.hash;
    window.location.assign('/login?next=' + encodeURIComponent(here));
  };

  /* A save the server refused or never got: tell the user, then show what the server holds. */
  app.syncFailed = function (modelOrCollection, xhr) {
    if (xhr && xhr.status === 401) {
      errorBox.querySelector('.sync-error-message').textContent =
        'Your session has ended. Taking you to the sign-in page…';
      errorBox.hidden = false;
      app.signInAgain();
      return;
    }
    var answer = xhr && xhr.responseJSON && xhr.responseJSON.error;
    var message = answer
      ? 'Your change was not saved: ' + answer + '.'
      : 'Your change was not saved: the server could not be reached.';
    errorBox.querySelector('.sync-error-message').textContent = message;
    errorBox.hidden = false;
    if (xhr && xhr.status !== 0) {
      app.todos.fetch({ reset: true });
    }
  };

  errorBox.querySelector('.sync-error-dismiss').addEventListener('click', function () {
    errorBox.hidden = true;
  });

  var block = document.getElementById('todos-data');
  app.todos = new app.Todos(JSON.parse(block.textContent));
  app.TodoFilter = '';
  new app.AppView();
  new app.TodoRouter();
  Backbone.history.start();
  app.startLiveUpdates(block.dataset.change);
})();
