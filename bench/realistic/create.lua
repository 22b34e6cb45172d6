-- POST a valid article (the `create` case): the serializer validates the foreign key.
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
  local body = string.format(
    '{"author":%d,"title":"bench %d","body":"created by wrk","published":true}',
    counter % 10 + 1, counter)
  return wrk.format("POST", nil, headers, body)
end
