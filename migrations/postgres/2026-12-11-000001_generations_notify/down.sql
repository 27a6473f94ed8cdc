DROP TRIGGER auth_generation_notify ON auth_generation;
DROP TRIGGER todos_generation_notify ON todos_generation;
DROP FUNCTION generations_notify();
