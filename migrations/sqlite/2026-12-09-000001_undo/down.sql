DROP TABLE undo_actions;
