/*
 * A todo: { id, title, order, completed, url, version }, kept on the server at /todos/{id}, and
 * `pending` while a change of it waits in the queue. Changes go through app.queue, which shows
 * them at once and sends them when it can; the model never saves itself.
 */
var app = app || {};

(function () {
  'use strict';

  app.Todo = Backbone.Model.extend({
    defaults: {
      title: '',
      completed: false,
      pending: false
    },

    toggle: function () {
      app.queue.update(this, { completed: !this.get('completed') });
    },

    rename: function (title) {
      app.queue.update(this, { title: title });
    },

    discard: function () {
      app.queue.destroy(this);
    }
  });
})();
