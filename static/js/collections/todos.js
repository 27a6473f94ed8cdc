/* The list, in the server's order: by `order`, then by `id`. */
var app = app || {};

(function () {
  'use strict';

  app.Todos = Backbone.Collection.extend({
    model: app.Todo,
    url: '/todos/',

    comparator: function (a, b) {
      return (a.get('order') - b.get('order')) || (a.id - b.id);
    },

    completed: function () {
      return this.where({ completed: true });
    },

    remaining: function () {
      return this.where({ completed: false });
    },

    /* "Clear completed" is one request, not one per todo. */
    clearCompleted: function () {
      var done = this.completed();
      var todos = this;
      return Backbone.ajax({ url: this.url + '?completed=true', type: 'DELETE' })
        .done(function () { todos.remove(done); })
        .fail(function (xhr) { app.syncFailed(todos, xhr); });
    }
  });
})();
