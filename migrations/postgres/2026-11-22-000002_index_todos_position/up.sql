-- The list is always read in (position, id) order.
CREATE INDEX todos_position_id ON todos (position, id);
