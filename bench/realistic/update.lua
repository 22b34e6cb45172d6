-- PATCH one field of an existing article (the `update` case), spread over 100 rows.
local counter = 0
local headers = nil

request = function()
  if headers == nil then
    -- wrk.format replaces wrk.headers (the -H Authorization header) with the table it gets.
    headers = {}
    for name, value in pairs(wrk.headers) do headers[name] = value end
    headers["Content-Type"] = "application/json"
  end
  counter = counter + 1
  local path = string.format("%s%d/", wrk.path, counter % 100 + 1)
  local body = string.format('{"title":"patched %d"}', counter)
  return wrk.format("PATCH", path, headers, body)
end
