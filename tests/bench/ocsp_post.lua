-- ocsp_post.lua - wrk script: POSTs the DER OCSP requests named in the
-- file OCSP_LIST (one path per line), each connection in turn, to wrk's
-- URL. Used by bench_ca.sh for the plain-HTTP OCSP comparison, where
-- loadgen (libcurl) would spend more CPU per request than the servers.
-- wrk counts any status but 2xx/3xx as "Non-2xx or 3xx responses".
local bodies = {}
local i = 0

function init(args)
  local list = os.getenv("OCSP_LIST")
  for path in io.lines(list) do
    local f = assert(io.open(path, "rb"))
    bodies[#bodies + 1] = f:read("*a")
    f:close()
  end
  i = math.random(#bodies)
end

function request()
  i = i % #bodies + 1
  return wrk.format("POST", nil,
    {["Content-Type"] = "application/ocsp-request"}, bodies[i])
end
