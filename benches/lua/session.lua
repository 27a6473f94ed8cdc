-- 5. What Backbone does in a session: create, toggle, edit, list, delete. Each write's headers
-- come from headers(), which plain-headers.lua or keyed-headers.lua defines.
local ids = {}
local step = 0
request = function()
  step = step + 1
  local s = step % 5
  if s == 1 or #ids < 64 then
    return wrk.format("POST", "/todos/", headers(), '{"title": "Session todo"}')
  elseif s == 2 then
    return wrk.format("PUT", "/todos/" .. ids[#ids], headers(), '{"completed": true}')
  elseif s == 3 then
    return wrk.format("PUT", "/todos/" .. ids[#ids], headers(), '{"title": "Session todo, edited"}')
  elseif s == 4 then
    return wrk.format("GET", "/todos/")
  else
    return wrk.format("DELETE", "/todos/" .. table.remove(ids, 1), headers())
  end
end
response = function(status, headers, body)
  local location = headers["location"] or headers["Location"]
  if location then
    local id = location:match("/todos/(%d+)$")
    if id then table.insert(ids, id) end
  end
end
