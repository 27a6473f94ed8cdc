/* A todo: { id, title, order, completed, url }, kept on the server at /todos/{id}. */
var app = app || {};

(function () {
  'use strict';

  app.Todo = Backbone.Model.extend({
    defaults: {
      title: '',
      completed: false
    },

    toggle: function () {
      this.save({ completed: !this.get('completed') }, { error: app.syncFailed });
    }
  });
})();
