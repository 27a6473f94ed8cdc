/* #/, #/active and #/completed pick the filter; it lives in the URL, so it survives a reload. */
var app = app || {};

(function () {
  'use strict';

  var TodoRouter = Backbone.Router.extend({
    routes: {
      '*filter': 'setFilter'
    },

    setFilter: function (filter) {
      app.TodoFilter = filter === 'active' || filter === 'completed' ? filter : '';
      app.todos.trigger('filter');
    }
  });

  app.TodoRouter = TodoRouter;
})();
