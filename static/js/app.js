/*
 * Starts the app on the todos the server put in the page: no second fetch, no redraw. Then the
 * queue adds what this browser still holds (changes not yet saved, a newer list kept offline),
 * the live stream starts, and the service worker keeps the page for opening offline.
 */
var app = app || {};

(function () {
  'use strict';

  var errorBox = document.querySelector('.sync-error');
  var newTodo = document.querySelector('.new-todo');

  /*
   * The session is over (expired, or signed out in another tab): go to the sign-in page, which
   * comes back to this list afterwards. Queued changes stay and are sent after signing in.
   */
  app.signInAgain = function () {
    var here = window.location.pathname + window.location.search + window.location.hash;
    window.location.assign('/login?next=' + encodeURIComponent(here));
  };

  var announcer = document.querySelector('.announcer');
  var announceTimer = null;
  var toAnnounce = [];

  /*
   * Says `message` to screen readers through the page's polite live region. Messages of the same
   * moment are said together ("“Milk” was added elsewhere. 3 items left"); the region is emptied
   * first, so that the same words twice are said twice.
   */
  app.announce = function (message) {
    if (toAnnounce.indexOf(message) < 0) {
      toAnnounce.push(message);
    }
    clearTimeout(announceTimer);
    announcer.textContent = '';
    announceTimer = setTimeout(function () {
      announcer.textContent = toAnnounce.join('. ');
      toAnnounce = [];
    }, 100);
  };

  app.showError = function (message) {
    errorBox.querySelector('.sync-error-message').textContent = message;
    errorBox.hidden = false;
    app.announce(message);
  };

  /* A new todo the server refused: the user gets their text back, unless they began the next. */
  app.giveBackTitle = function (title) {
    if (!newTodo.value) {
      newTodo.value = title;
    }
  };

  errorBox.querySelector('.sync-error-dismiss').addEventListener('click', function () {
    errorBox.hidden = true;
  });

  /* Signing out forgets what this browser holds for the user, after asking if some is unsaved. */
  var signOut = document.querySelector('.account-bar form');
  if (signOut) {
    signOut.addEventListener('submit', function (event) {
      event.preventDefault();
      var waiting = app.queue.waiting();
      if (waiting && !window.confirm(waiting + (waiting === 1 ? ' change has' : ' changes have') +
          ' not been saved yet and will be lost. Sign out anyway?')) {
        return;
      }
      var cleared = [app.queue.forget(), app.Store.forgetAll(block.dataset.user)];
      if (window.caches) {
        cleared.push(caches.delete('todomvc-pages')); // the service worker's copy of the list
      }
      Promise.all(cleared).catch(function () {}).then(function () { signOut.submit(); });
    });
  }

  /* The service worker keeps this page and its files; it is told which files the page uses. */
  function keepForOffline() {
    if (!('serviceWorker' in navigator)) {
      return;
    }
    navigator.serviceWorker.register('/static/sw.js', { scope: '/' }).catch(function (err) {
      window.console.warn('no service worker: the page will not open offline', err);
    });
    navigator.serviceWorker.ready.then(function (registration) {
      var files = [window.location.pathname + window.location.search];
      document.querySelectorAll('script[src], link[rel="stylesheet"]').forEach(function (el) {
        files.push(el.getAttribute('src') || el.getAttribute('href'));
      });
      registration.active.postMessage({ keep: files });
    });
  }

  /* A page opened at ?edit=ID (the edit view without JavaScript) edits that todo in place. */
  function editWhatTheServerShows() {
    var editing = document.querySelector('.todo-list li.editing');
    var params = new URLSearchParams(window.location.search);
    if (!params.has('edit')) {
      return;
    }
    params.delete('edit');
    var query = params.toString();
    window.history.replaceState(null, '', window.location.pathname + (query ? '?' + query : ''));
    var model = editing && app.todos.get(Number(editing.dataset.id));
    if (model) {
      editing.classList.remove('editing');
      editing.querySelector('label').dispatchEvent(
        new MouseEvent('dblclick', { bubbles: true }));
    }
  }

  var block = document.getElementById('todos-data');
  var page = { change: Number(block.dataset.change), todos: JSON.parse(block.textContent) };
  app.todos = new app.Todos(page.todos);
  app.todos.url = app.page.todos;
  app.TodoFilter = '';
  new app.AppView();
  app.router = new app.TodoRouter();
  Backbone.history.start({ pushState: true, root: app.page.root });
  editWhatTheServerShows();
  app.lists.showKeptNotice();
  app.queue.start(block.dataset.user + app.page.store, page).then(app.startLiveUpdates);
  keepForOffline();
})();
