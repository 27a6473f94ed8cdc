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
})();
