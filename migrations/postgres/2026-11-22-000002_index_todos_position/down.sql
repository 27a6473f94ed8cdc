DROP INDEX todos_position_id;
