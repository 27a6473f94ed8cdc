/* One <li> of the list. Built with DOM calls and textContent, so a title is always text. */
var app = app || {};

(function () {
  'use strict';

  app.TodoView = Backbone.View.extend({
    tagName: 'li',

    events: {
      'click .toggle': 'toggleCompleted',
      'dblclick label': 'edit',
      'click .destroy': 'clear',
      'keydown .edit': 'onEditKeydown',
      'blur .edit': 'close'
    },

    /* With `el` the view takes over an <li> the server rendered, as it is. */
    initialize: function (options) {
      // Only what the item shows: a new version alone (the echo of a save) redraws nothing.
      this.listenTo(this.model, 'change:title change:completed', this.render);
      this.listenTo(this.model, 'change:pending', this.showPending);
      this.listenTo(this.model, 'change:id', function () { this.el.dataset.id = this.model.id; });
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
      var title = this.model.get('title');
      var completed = this.model.get('completed');

      var view = document.createElement('div');
      view.className = 'view';
      var toggle = document.createElement('input');
      toggle.className = 'toggle';
      toggle.type = 'checkbox';
      toggle.checked = completed;
      var label = document.createElement('label');
      label.textContent = title;
      var destroy = document.createElement('button');
      destroy.className = 'destroy';
      destroy.setAttribute('aria-label', 'Delete');
      view.append(toggle, label, destroy);

      var edit = document.createElement('input');
      edit.className = 'edit';
      edit.maxLength = 1000;
      edit.value = title;

      this.el.replaceChildren(view, edit);
      this.el.dataset.id = this.model.id;
      this.$el.toggleClass('completed', completed).removeClass('editing');
      this.$input = this.$(edit);
      this.toggleVisible();
      this.showPending();
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
      this.el.hidden = (app.TodoFilter === 'completed' && !completed) ||
        (app.TodoFilter === 'active' && completed);
    },

    toggleCompleted: function () {
      this.model.toggle();
    },

    edit: function () {
      this.$el.addClass('editing');
      this.model.editing = true;
      var input = this.$input[0];
      input.value = this.model.get('title');
      input.focus();
      input.setSelectionRange(input.value.length, input.value.length);
    },

    /* Enter and blur save; an empty title deletes the todo. */
    close: function () {
      if (!this.$el.hasClass('editing')) {
        return;
      }
      var title = this.$input.val().trim();
      this.$el.removeClass('editing');
      this.model.editing = false;
      if (!title) {
        this.model.discard();
      } else if (title !== this.model.get('title')) {
        this.model.rename(title);
      } else {
        this.$input.val(title);
      }
      app.queue.editEnded();
    },

    onEditKeydown: function (e) {
      if (e.key === 'Enter' && !e.originalEvent.isComposing) {
        this.close();
      } else if (e.key === 'Escape') {
        // Leave editing first, so that the blur that follows saves nothing.
        this.$el.removeClass('editing');
        this.model.editing = false;
        this.$input.val(this.model.get('title'));
        app.queue.editEnded();
      }
    },

    clear: function () {
      this.model.discard();
    }
  });
})();
