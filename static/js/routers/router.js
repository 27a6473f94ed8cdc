/*
 * /, /active and /completed pick the filter: the same URLs the server renders without
 * JavaScript, so a link works either way. Old #/active links are taken to /active.
 */
var app = app || {};

(function () {
  'use strict';

  var TodoRouter = Backbone.Router.extend({
    routes: {
      'active': 'active',
      'completed': 'completed',
      '*other': 'all'
    },

    active: function () { this.setFilter('active'); },
    completed: function () { this.setFilter('completed'); },
    all: function () { this.setFilter(''); },

    setFilter: function (filter) {
      app.TodoFilter = filter;
      app.todos.trigger('filter');
    }
  });

  app.TodoRouter = TodoRouter;

  /*
   * A #/, #/active or #/completed typed into the address bar of an open page (or followed from an
   * old link) is a change of the hash alone, which the pushState router does not see: it goes to
   * the same view as /, /active or /completed, and the address says so.
   */
  app.followHashRoute = function () {
    var match = /^#\/(active|completed)?$/.exec(window.location.hash);
    if (match && app.router) {
      app.router.navigate(match[1] || '', { trigger: true, replace: true });
    }
  };
  window.addEventListener('hashchange', app.followHashRoute);
})();
