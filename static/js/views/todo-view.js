/*
 * One <li> of the list, cloned from the item the server renders in <template id="todo-template">
 * (the same markup as the server's list, whose forms work without JavaScript): the tokens in its
 * attributes are replaced, and the title is set as text, so a title is always text.
 */
var app = app || {};

(function () {
  'use strict';

  var template = document.getElementById('todo-template');

  /* The template's item with this todo's id, version and title in place of the tokens. */
  function item(id, version, title) {
    var li = template.content.querySelector('li').cloneNode(true);
    [li].concat(Array.prototype.slice.call(li.querySelectorAll('*'))).forEach(function (el) {
      Array.prototype.slice.call(el.attributes).forEach(function (attr) {
        if (attr.value.indexOf('__') >= 0) {
          // The title last, so that tokens typed in a title stay as typed.
          el.setAttribute(attr.name, attr.value.split('__ID__').join(id)
            .split('__VERSION__').join(version).split('__TITLE__').join(title));
        }
      });
    });
    li.querySelector('label').textContent = title;
    return li;
  }

  app.TodoView = Backbone.View.extend({
    tagName: 'li',

    events: {
      'click .toggle': 'toggleCompleted',
      'dblclick label': 'edit',
      'click .edit-link': 'editFromButton',
      'click .destroy': 'clear',
      'keydown .edit': 'onEditKeydown',
      'blur .edit': 'onBlur'
    },

    /* With `el` the view takes over an <li> the server rendered, as it is. */
    initialize: function (options) {
      // Only what the item shows: a new version alone (the echo of a save) redraws nothing.
      this.listenTo(this.model, 'change:title change:completed', this.render);
      this.listenTo(this.model, 'change:pending', this.showPending);
      this.listenTo(this.model, 'change:id', this.render);
      this.listenTo(this.model, 'destroy remove', this.remove);
      this.listenTo(this.model, 'visible', this.toggleVisible);
      if (options && options.el) {
        this.$input = this.$('.edit');
        this.toggleVisible();
        this.showPending();
      } else {
        this.render();
      }
    },

    render: function () {
      var completed = this.model.get('completed');
      // A redraw keeps the keyboard where it was.
      var focused = this.el.contains(document.activeElement) ? document.activeElement.className : '';
      var fresh = item(String(this.model.id), String(this.model.get('version') || ''),
        this.model.get('title'));
      var toggle = fresh.querySelector('.toggle');
      if (app.page.canEdit) {
        toggle.setAttribute('aria-checked', String(completed));
        fresh.querySelector('.toggle-form [name="completed"]').value = String(!completed);
      } else {
        // A viewer's item shows the state; it is no control.
        toggle.setAttribute('aria-label', completed ? 'Completed' : 'Not completed');
      }
      this.el.replaceChildren.apply(this.el, Array.prototype.slice.call(fresh.childNodes));
      this.el.dataset.id = this.model.id;
      this.$el.toggleClass('completed', completed).removeClass('editing');
      this.$input = this.$('.edit');
      this.toggleVisible();
      this.showPending();
      if (focused) {
        var again = this.el.querySelector('.' + focused.split(' ')[0]);
        if (again) {
          again.focus();
        }
      }
      return this;
    },

    /* A todo whose change the server has not confirmed yet looks pending. */
    showPending: function () {
      var pending = !!this.model.get('pending');
      this.$el.toggleClass('pending', pending);
      this.el.title = pending ? 'Not saved yet' : '';
    },

    toggleVisible: function () {
      var completed = this.model.get('completed');
      var hidden = (app.TodoFilter === 'completed' && !completed) ||
        (app.TodoFilter === 'active' && completed);
      if (hidden && this.el.contains(document.activeElement)) {
        app.focusNear(this.el);
      }
      this.el.hidden = hidden;
    },

    toggleCompleted: function (e) {
      e.preventDefault(); // the app saves it; the form is for pages without JavaScript
      var before = this.model.get('completed');
      this.model.toggle();
      app.undo.changed([{ model: this.model, before: { completed: before },
        after: { title: this.model.get('title'), completed: !before } }],
        'Marked “' + this.model.get('title') + '” ' + (before ? 'not complete' : 'complete') + '.');
    },

    edit: function () {
      if (!app.page.canEdit) {
        return; // a viewer reads the list
      }
      this.$el.addClass('editing');
      this.model.editing = true;
      var input = this.$input[0];
      input.value = this.model.get('title');
      input.focus();
      input.setSelectionRange(input.value.length, input.value.length);
    },

    editFromButton: function (e) {
      e.preventDefault();
      this.edit();
    },

    onBlur: function () {
      this.close(false);
    },

    /* Enter and blur save; an empty title deletes the todo. With the keyboard, focus goes back
     * to the todo's Edit button (or, if it was deleted, to its neighbour). */
    close: function (refocus) {
      if (!this.$el.hasClass('editing')) {
        return;
      }
      var title = this.$input.val().trim();
      this.$el.removeClass('editing');
      this.model.editing = false;
      if (!title) {
        this.clear();
        app.queue.editEnded();
        return;
      }
      if (title !== this.model.get('title')) {
        var before = this.model.get('title');
        this.model.rename(title);
        app.undo.changed([{ model: this.model, before: { title: before },
          after: { title: title, completed: this.model.get('completed') } }],
          'Renamed “' + before + '” to “' + title + '”.');
      } else {
        this.$input.val(title);
      }
      app.queue.editEnded();
      if (refocus) {
        this.$('.edit-link').trigger('focus');
      }
    },

    onEditKeydown: function (e) {
      if (e.key === 'Enter' && !e.originalEvent.isComposing) {
        e.preventDefault();
        this.close(true);
      } else if (e.key === 'Escape') {
        // Leave editing first, so that the blur that follows saves nothing.
        this.$el.removeClass('editing');
        this.model.editing = false;
        this.$input.val(this.model.get('title'));
        app.queue.editEnded();
        this.$('.edit-link').trigger('focus');
      }
    },

    clear: function (e) {
      if (e) {
        e.preventDefault();
      }
      var hadFocus = this.el.contains(document.activeElement) || !e;
      if (hadFocus) {
        app.focusNear(this.el);
      }
      var snapshot = app.snapshot(this.model);
      this.model.discard();
      app.undo.deleted([snapshot], 'Deleted “' + snapshot.title + '”.');
    }
  });
})();
