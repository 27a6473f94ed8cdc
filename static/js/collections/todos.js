/* The list, in the server's order: by `order`, then by `id`. */
var app = app || {};

(function () {
  'use strict';

  app.Todos = Backbone.Collection.extend({
    model: app.Todo,
    url: '/todos/',

    /* Server ids are numbers; todos the server has not seen yet have string ids and go last. */
    comparator: function (a, b) {
      var byOrder = a.get('order') - b.get('order');
      if (byOrder) {
        return byOrder;
      }
      var aNew = typeof a.id === 'string';
      var bNew = typeof b.id === 'string';
      if (aNew !== bNew) {
        return aNew ? 1 : -1;
      }
      return aNew ? (a.id < b.id ? -1 : 1) : a.id - b.id;
    },

    completed: function () {
      return this.where({ completed: true });
    },

    remaining: function () {
      return this.where({ completed: false });
    }
  });
})();
