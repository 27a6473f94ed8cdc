/*
 * The list switcher, followed live, and what happens when this list is lost: shared with the
 * caller or taken from them, renamed or deleted, the switcher shows it (the live stream says
 * `lists` when anything of the caller's lists changed). A list the caller can no longer edit or
 * see is left: its queued changes are dropped (the server refused them, and would again) and the
 * page says how many.
 *
 * Interface (app.lists):
 *   refresh()        reads the caller's lists again and redraws the switcher
 *   lost(canRead, unsaved)  this list can no longer be edited (canRead) or seen: says so, with
 *                   how many changes were not saved (`unsaved`, else those queued now), and
 *                   leaves it
 *   showKeptNotice() shows what a page before a reload had to say
 */
var app = app || {};

app.lists = (function () {
  'use strict';

  var NOTICE = 'todomvc:notice';
  var links = document.querySelector('.lists-nav .lists');
  var template = document.getElementById('list-link-template');
  var leaving = false;

  /* One link of the switcher, from the server's template. */
  function link(list, isDefault, shared) {
    var li = template.content.firstElementChild.cloneNode(true);
    var a = li.querySelector('a');
    a.href = isDefault ? '/' : '/lists/' + list.id;
    a.textContent = list.title;
    if (String(list.id) === app.page.list) {
      a.setAttribute('aria-current', 'page');
      a.classList.add('current');
    }
    li.querySelector('.shared-mark').hidden = !shared;
    return li;
  }

  function redraw(lists) {
    var wasShared = {};
    links.querySelectorAll('li').forEach(function (li) {
      var a = li.querySelector('a');
      var mark = li.querySelector('.shared-mark');
      wasShared[a.getAttribute('href')] = Boolean(mark && !mark.hidden);
    });
    links.replaceChildren.apply(links, lists.map(function (list, index) {
      var isDefault = index === 0 && list.role === 'owner';
      var href = isDefault ? '/' : '/lists/' + list.id;
      return link(list, isDefault, list.role !== 'owner' || Boolean(wasShared[href]));
    }));
  }

  function refresh() {
    Backbone.ajax({ url: '/lists', dataType: 'json' }).done(function (lists) {
      redraw(lists);
      var here = lists.filter(function (list) { return String(list.id) === app.page.list; })[0];
      if (!here) {
        lost(false);
      } else if (here.role === 'viewer' && app.page.canEdit) {
        lost(true);
      } else if (here.title !== app.page.title) {
        app.page.title = here.title;
        document.querySelectorAll('.list-title').forEach(function (el) {
          el.textContent = here.title;
        });
      }
    });
  }

  /* Leaves this list's page (for the default list's, or this one as a viewer sees it), with a
   * notice shown there: what was lost, and how many queued changes were not saved. */
  function lost(canRead, counted) {
    if (leaving) {
      return;
    }
    leaving = true;
    var unsaved = counted === undefined ? app.queue.waiting() : counted;
    var what = canRead ? 'You can no longer edit “' + app.page.title + '”'
      : 'You no longer have access to “' + app.page.title + '”';
    var notice = what + (unsaved ? '; ' + unsaved + (unsaved === 1 ? ' change was' : ' changes were') +
      ' not saved' : '') + '.';
    app.showError(notice);
    try {
      window.sessionStorage.setItem(NOTICE, notice);
    } catch (err) {
      // Without session storage the notice is shown here only.
    }
    app.queue.forget().catch(function () {}).then(function () {
      if (canRead) {
        window.location.reload();
      } else {
        window.location.assign('/');
      }
    });
  }

  function showKeptNotice() {
    var notice = null;
    try {
      notice = window.sessionStorage.getItem(NOTICE);
      window.sessionStorage.removeItem(NOTICE);
    } catch (err) {
      return;
    }
    if (notice) {
      app.showError(notice);
    }
  }

  return { refresh: refresh, lost: lost, showKeptNotice: showKeptNotice };
})();
