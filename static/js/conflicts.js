/*
 * Queued changes the server refused with 412 because someone changed the todo meanwhile. Each is
 * shown with both versions until the user keeps theirs or takes the server's; neither is lost
 * without that choice.
 */
var app = app || {};

(function () {
  'use strict';

  var section = document.querySelector('.conflicts');
  var template = document.getElementById('conflict-template');
  var shownFor = '';

  function describe(todo) {
    if (!todo) {
      return 'Deleted';
    }
    return '“' + todo.title + '”, ' + (todo.completed ? 'completed' : 'not completed');
  }

  function render(change, mine) {
    var node = template.content.firstElementChild.cloneNode(true);
    var theirs = change.conflict;
    node.querySelector('.conflict-what').textContent =
      '“' + theirs.title + '” was changed elsewhere while your change waited. Which one stays?';
    node.querySelector('.conflict-mine .conflict-text').textContent =
      change.kind === 'delete' ? 'Deleted' : describe(mine);
    node.querySelector('.conflict-theirs .conflict-text').textContent = describe(theirs);
    var keep = node.querySelector('.conflict-keep-mine');
    keep.setAttribute('aria-label', 'Keep mine for “' + theirs.title + '”');
    keep.addEventListener('click', function () { app.queue.keepMine(change); });
    var take = node.querySelector('.conflict-take-theirs');
    take.setAttribute('aria-label', 'Take the saved one for “' + theirs.title + '”');
    take.addEventListener('click', function () { app.queue.takeTheirs(change); });
    return node;
  }

  /* `conflicts`: the queued changes in conflict; `shown`: the list as the page shows it. */
  app.showConflicts = function (conflicts, shown) {
    var byId = {};
    shown.forEach(function (todo) { byId[todo.id] = todo; });
    var signature = JSON.stringify(conflicts.map(function (change) {
      return [change.key, change.conflict.version, byId[change.id] || null];
    }));
    if (signature === shownFor) {
      return;
    }
    shownFor = signature;
    section.querySelectorAll('.conflict').forEach(function (node) { node.remove(); });
    conflicts.forEach(function (change) {
      section.appendChild(render(change, byId[change.id]));
    });
    section.hidden = conflicts.length === 0;
  };
})();
