-- 4. PUT /todos/{id}: edits the seeded todos (the harness fills in the first and last id).
local headers = { ["Content-Type"] = "application/json" }
local n = 0
request = function()
  n = n + 1
  local id = math.random(FIRST, LAST)
  local body = '{"title": "Edited ' .. n .. '", "completed": ' .. tostring(n % 2 == 0) .. '}'
  return wrk.format("PUT", "/todos/" .. id, headers, body)
end
