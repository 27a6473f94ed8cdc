/*
 * The whole app. It takes over the page the server rendered instead of drawing it again; its
 * forms (which work without JavaScript) are handled here instead of being posted.
 */
var app = app || {};

(function () {
  'use strict';

  /* Where the keyboard goes when `li` goes away: the next todo shown, else the one before, else
   * the new-todo field. */
  app.focusNear = function (li) {
    var shown = function (el) { return el && el.tagName === 'LI' && !el.hidden; };
    var next = li.nextElementSibling;
    while (next && !shown(next)) {
      next = next.nextElementSibling;
    }
    var previous = li.previousElementSibling;
    while (previous && !shown(previous)) {
      previous = previous.previousElementSibling;
    }
    var target = next || previous;
    (target ? target.querySelector('.toggle') : document.querySelector('.new-todo')).focus();
  };

  app.AppView = Backbone.View.extend({
    el: '.todoapp',

    events: {
      'submit .new-todo-form': 'createOnSubmit',
      'submit form': 'preventPost',
      'click .clear-completed': 'clearCompleted',
      'click .toggle-all': 'toggleAllComplete',
      'click .filters a': 'followFilter'
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
      if (this.allCheckbox) { // a viewer's page has no editing controls
        this.allCheckbox.setAttribute('aria-checked', String(any && remaining === 0));
      }

      var count = document.createElement('strong');
      count.textContent = remaining;
      var left = ' ' + (remaining === 1 ? 'item' : 'items') + ' left';
      this.$('.todo-count')[0].replaceChildren(count, left);
      if (this.counted !== undefined && this.counted !== remaining) {
        app.announce(remaining + left);
      }
      this.counted = remaining;
      this.$('.clear-completed').prop('hidden', completed === 0);
      var here = app.page.path(app.TodoFilter);
      this.$('.filters a').each(function (_, link) {
        var selected = link.getAttribute('href') === here;
        link.classList.toggle('selected', selected);
        if (selected) {
          link.setAttribute('aria-current', 'page');
        } else {
          link.removeAttribute('aria-current');
        }
      });
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

    /* The app does the work with JSON calls; the forms are for pages without JavaScript. */
    preventPost: function (e) {
      e.preventDefault();
    },

    /* Enter in the field submits its form. */
    createOnSubmit: function (e) {
      e.preventDefault();
      var title = this.$input.val().trim();
      if (!title) {
        return;
      }
      this.$input.val('');
      app.queue.create({ title: title });
    },

    /* The button goes away with the completed todos: the keyboard goes to the new-todo field. */
    clearCompleted: function (e) {
      e.preventDefault();
      var hadFocus = document.activeElement === e.currentTarget;
      app.queue.clearCompleted();
      if (hadFocus) {
        this.$input.trigger('focus');
      }
    },

    toggleAllComplete: function (e) {
      e.preventDefault();
      var completed = app.todos.remaining().length > 0;
      app.todos.each(function (todo) {
        if (todo.get('completed') !== completed) {
          app.queue.update(todo, { completed: completed });
        }
      });
    },

    /* The filters are links the server also understands; here they change the view in place. */
    followFilter: function (e) {
      if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) {
        return; // a new tab or window gets the server's page
      }
      e.preventDefault();
      app.router.navigate(app.page.route(e.currentTarget.getAttribute('href')), { trigger: true });
    }
  });
})();
