-- POST a valid item with a unique isbn per request (the `create` case).
local counter = 0
local run = tostring(os.time()) .. tostring(math.random(1000, 9999))
request = function()
  counter = counter + 1
  local body = string.format(
    '{"title":"bench","isbn":"%s-%d","pages":10,"price":"9.50","publisher":1}', run, counter)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
