/* A todo: { id, title, order, completed, url, version }, kept on the server at /todos/{id}. */
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
    },

    /*
     * Updates and deletes say which version they change (If-Match), so that an edit made in another
     * tab is never silently overwritten: the server answers 412 instead. They go out one after
     * another, each with the version the previous one returned, so quick successive edits of the
     * same todo never refuse each other.
     */
    sync: function (method, model, options) {
      if (method !== 'update' && method !== 'patch' && method !== 'delete') {
        return Backbone.sync.apply(this, arguments);
      }
      var todo = this;
      var previous = this.pendingWrite || $.when();
      var done = $.Deferred();
      this.pendingWrite = done.promise();
      previous.always(function () {
        if (todo.has('version')) {
          options.headers = _.extend({}, options.headers, {
            'If-Match': '"' + todo.get('version') + '"'
          });
        }
        Backbone.sync(method, model, options).then(done.resolve, done.reject);
      });
      return done.promise();
    }
  });
})();
