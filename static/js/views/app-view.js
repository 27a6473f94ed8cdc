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

  /* A todo's attributes as they are now, for undoing its deletion. */
  app.snapshot = function (model) {
    return { id: model.id, title: model.get('title'), completed: model.get('completed'),
      order: model.get('order') };
  };

  /* The largest set of `wanted` that is already in the same order in `current`. */
  function longestInOrder(wanted, current) {
    var at = new Map();
    current.forEach(function (li, index) { at.set(li, index); });
    var places = wanted.map(function (li) { return at.get(li); });
    var tails = [];
    var previous = [];
    places.forEach(function (place, i) {
      var lo = 0;
      var hi = tails.length;
      while (lo < hi) {
        var mid = (lo + hi) >> 1;
        if (places[tails[mid]] < place) { lo = mid + 1; } else { hi = mid; }
      }
      previous[i] = lo > 0 ? tails[lo - 1] : -1;
      tails[lo] = i;
    });
    var keep = new Set();
    for (var k = tails.length ? tails[tails.length - 1] : -1; k >= 0; k = previous[k]) {
      keep.add(wanted[k]);
    }
    return keep;
  }

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
      app.order.refresh();
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

    /*
     * Puts the items in the collection's order after todos moved: only an item out of place is
     * moved (the rest of the list is not redrawn), and the keyboard stays where it was.
     */
    reorder: function () {
      var list = this.$list[0];
      var focused = document.activeElement;
      var items = {};
      Array.prototype.forEach.call(list.children, function (li) { items[li.dataset.id] = li; });
      var wanted = app.todos.map(function (todo) { return items[todo.id]; })
        .filter(function (li) { return li; });
      // Items already in order relative to each other stay; the others move next to them.
      var stay = longestInOrder(wanted, Array.prototype.slice.call(list.children));
      for (var i = wanted.length - 1; i >= 0; i--) {
        var li = wanted[i];
        var next = wanted[i + 1] || null;
        if (!stay.has(li) && li.nextElementSibling !== next) {
          list.insertBefore(li, next);
        }
      }
      if (focused && focused !== document.activeElement && list.contains(focused)) {
        focused.focus();
      }
      app.order.refresh();
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
      var cleared = app.todos.completed().map(app.snapshot);
      app.queue.clearCompleted();
      app.undo.deleted(cleared, cleared.length === 1 ? 'Cleared “' + cleared[0].title + '”.'
        : 'Cleared ' + cleared.length + ' completed todos.');
      if (hadFocus) {
        this.$input.trigger('focus');
      }
    },

    toggleAllComplete: function (e) {
      e.preventDefault();
      var completed = app.todos.remaining().length > 0;
      var steps = [];
      app.todos.each(function (todo) {
        if (todo.get('completed') !== completed) {
          steps.push({ model: todo, before: { completed: !completed },
            after: { title: todo.get('title'), completed: completed } });
          app.queue.update(todo, { completed: completed });
        }
      });
      app.undo.changed(steps, 'Marked ' + steps.length + (steps.length === 1 ? ' todo ' : ' todos ') +
        (completed ? 'complete.' : 'not complete.'));
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
