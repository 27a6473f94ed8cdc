/* The whole app. It takes over the page the server rendered instead of drawing it again. */
var app = app || {};

(function () {
  'use strict';

  app.AppView = Backbone.View.extend({
    el: '.todoapp',

    events: {
      'keydown .new-todo': 'createOnEnter',
      'click .clear-completed': 'clearCompleted',
      'click .toggle-all': 'toggleAllComplete'
    },

    initialize: function () {
      this.$input = this.$('.new-todo');
      this.$main = this.$('.main');
      this.$footer = this.$('.footer');
      this.$list = this.$('.todo-list');
      this.allCheckbox = this.$('.toggle-all')[0];

      app.todos.each(function (todo) {
        var li = this.$list.children('[data-id="' + todo.id + '"]')[0];
        if (li) {
          new app.TodoView({ model: todo, el: li });
        } else {
          this.addOne(todo);
        }
      }, this);

      this.listenTo(app.todos, 'add', this.addOne);
      this.listenTo(app.todos, 'reset', this.addAll);
      this.listenTo(app.todos, 'filter', this.filterAll);
      this.listenTo(app.todos, 'sort', this.reorder);
      this.listenTo(app.todos, 'update reset change sync', this.render);
      this.render();
    },

    render: function () {
      var completed = app.todos.completed().length;
      var remaining = app.todos.length - completed;
      var any = app.todos.length > 0;

      this.$main[0].hidden = !any;
      this.$footer[0].hidden = !any;
      this.allCheckbox.checked = any && remaining === 0;

      var count = document.createElement('strong');
      count.textContent = remaining;
      this.$('.todo-count')[0].replaceChildren(
        count, ' ' + (remaining === 1 ? 'item' : 'items') + ' left');
      this.$('.clear-completed')[0].hidden = completed === 0;
      this.$('.filters a')
        .removeClass('selected')
        .filter('[href="#/' + (app.TodoFilter || '') + '"]')
        .addClass('selected');
    },

    addOne: function (todo) {
      var view = new app.TodoView({ model: todo });
      // Keep the list in the collection's order, whatever order the answers came back in.
      var index = app.todos.indexOf(todo);
      var next = this.$list.children()[index];
      if (next) {
        this.$list[0].insertBefore(view.el, next);
      } else {
        this.$list.append(view.el);
      }
    },

    /* Puts the items in the collection's order after a todo moved (a pushed change of `order`). */
    reorder: function () {
      var list = this.$list[0];
      app.todos.each(function (todo) {
        var li = list.querySelector('li[data-id="' + todo.id + '"]');
        if (li) {
          list.appendChild(li);
        }
      });
    },

    addAll: function () {
      this.$list.empty();
      app.todos.each(this.addOne, this);
    },

    filterAll: function () {
      app.todos.each(function (todo) { todo.trigger('visible'); });
      this.render();
    },

    createOnEnter: function (e) {
      if (e.key !== 'Enter' || e.originalEvent.isComposing) {
        return;
      }
      var title = this.$input.val().trim();
      if (!title) {
        return;
      }
      this.$input.val('');
      app.queue.create({ title: title });
    },

    clearCompleted: function () {
      app.queue.clearCompleted();
    },

    toggleAllComplete: function () {
      var completed = this.allCheckbox.checked;
      app.todos.each(function (todo) {
        if (todo.get('completed') !== completed) {
          app.queue.update(todo, { completed: completed });
        }
      });
    }
  });
})();
