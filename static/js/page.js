/*
 * Which list this page shows, as the server rendered it: its id and title, the caller's role,
 * where its todos and live stream are, and its paths (`/` for the default list, `/lists/{id}`
 * for any other, each with /active and /completed).
 *
 * Interface (app.page):
 *   list, title, role, canEdit   the list and what the caller may do with it
 *   todos, events                its collection URL and live stream
 *   store                        what tells this list's kept changes from other lists'
 *   root                         the router's root
 *   path(filter)                 the page's path under a filter ('' for all)
 *   route(href)                  a filter link's href as the router's fragment
 */
var app = app || {};

app.page = (function () {
  'use strict';

  var data = document.getElementById('todos-data').dataset;
  var base = data.base || '';

  return {
    list: data.list,
    title: data.listTitle,
    role: data.role,
    canEdit: data.role !== 'viewer',
    todos: data.todos || '/todos/',
    events: data.events || '/todos/events',
    store: data.store || '',
    root: base ? base + '/' : '/',
    path: function (filter) {
      return filter ? base + '/' + filter : (base || '/');
    },
    route: function (href) {
      return href.slice(base.length).replace(/^\//, '');
    }
  };
})();
