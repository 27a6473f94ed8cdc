DROP TRIGGER todos_generation_bump ON todos;
DROP FUNCTION todos_generation_bump();
DROP TABLE todos_generation;
