"""The extra Lua libraries Redis 7.0 gives scripts and functions: cjson, cmsgpack, bit, struct.

Differential: every expectation also holds against redis-server 7.0 (DF_TEST_SERVER=redis),
error texts included, except the few marked as ours (guards where Redis would build a result
of gigabytes). Hostile input (malformed JSON, truncated MessagePack, huge struct counts, deep
or cyclic tables) gets an error reply, and the server keeps answering. No test changes the
global cjson settings (they last as long as the Lua state, on Redis too): settings are tried
on tables from cjson.new().
"""
import hashlib

import pytest

from conftest import is_redis
from resp import Error


def where(body, line=1):
    """The suffix Redis 7.0 adds to an error raised inside a script."""
    return f" script: {hashlib.sha1(body.encode()).hexdigest()}, on @user_script:{line}."


def ev(raw, body, *args):
    return raw.cmd("EVAL", body, 0, *args)


def lua_err(raw, body, msg, prefix="user_script:1: "):
    """The script fails with msg, raised at line 1 of the script (prefix) or by Lua itself."""
    assert ev(raw, body) == Error(f"ERR {prefix}{msg}{where(body)}")
    assert raw.cmd("PING") == "PONG"


def keys_of(raw, lib):
    return ev(raw, f"local t = {{}} for k, v in pairs({lib}) do t[#t + 1] = k .. '=' .. type(v) "
                   "end table.sort(t) return t")


# ---------------------------------------------------------------- the libraries' tables

def test_library_tables(raw):
    assert keys_of(raw, "cjson") == [
        b"_NAME=string", b"_VERSION=string", b"decode=function", b"decode_invalid_numbers=function",
        b"decode_max_depth=function", b"encode=function", b"encode_invalid_numbers=function",
        b"encode_keep_buffer=function", b"encode_max_depth=function",
        b"encode_number_precision=function", b"encode_sparse_array=function", b"new=function",
        b"null=userdata"]
    assert keys_of(raw, "cmsgpack") == [
        b"_COPYRIGHT=string", b"_DESCRIPTION=string", b"_NAME=string", b"_VERSION=string",
        b"pack=function", b"unpack=function", b"unpack_limit=function", b"unpack_one=function"]
    assert keys_of(raw, "bit") == [
        b"arshift=function", b"band=function", b"bnot=function", b"bor=function",
        b"bswap=function", b"bxor=function", b"lshift=function", b"rol=function",
        b"ror=function", b"rshift=function", b"tobit=function", b"tohex=function"]
    assert keys_of(raw, "struct") == [b"pack=function", b"size=function", b"unpack=function"]
    assert ev(raw, "return {cjson._NAME, cjson._VERSION, cmsgpack._NAME, cmsgpack._VERSION}") == [
        b"cjson", b"2.1.0", b"cmsgpack", b"lua-cmsgpack 0.4.0"]


@pytest.mark.parametrize("stmt", [
    "cjson.encode = nil", "cjson.foo = 1", "cjson = nil", "bit.band = nil", "bit = {}",
    "struct.pack = nil", "cmsgpack.pack = nil", "cmsgpack.x = 1", "cjson.null = 1"])
def test_libraries_are_readonly(raw, stmt):
    lua_err(raw, stmt, "Attempt to modify a readonly table")


def test_libraries_readonly_through_raw_functions(raw):
    for body in ["rawset(cjson, 'x', 1)", "setmetatable(bit, {})", "table.insert(struct, 1)"]:
        lua_err(raw, body, "Attempt to modify a readonly table", prefix="")
    assert ev(raw, "return cjson.encode({1})") == b"[1]"  # still intact


def test_every_thread_has_the_libraries(raw):
    body = "return {cjson.encode({KEYS[1]}), bit.tohex(#KEYS[1]), struct.pack('>I2', 258)}"
    for i in range(8):
        key = f"k{i}"
        assert raw.cmd("EVAL", body, 1, key) == [f'["{key}"]'.encode(), b"00000002", b"\x01\x02"]


def test_eval_ro(raw):
    assert raw.cmd("EVAL_RO", "return cmsgpack.unpack(cmsgpack.pack('x'))", 0) == b"x"


# ---------------------------------------------------------------- functions

def test_functions_use_the_libraries(raw):
    raw.cmd("FUNCTION", "FLUSH")
    code = ("#!lua name=libs\n"
            "redis.register_function{function_name='f', flags={'no-writes'},\n"
            "  callback=function(keys, args)\n"
            "    return {cjson.encode(args), bit.band(tonumber(args[1]), 6),\n"
            "            struct.pack('>I2', 258), cmsgpack.unpack(cmsgpack.pack(keys[1]))}\n"
            "  end}")
    assert raw.cmd("FUNCTION", "LOAD", code) == b"libs"
    assert raw.cmd("FCALL", "f", 1, "key", "7", "x") == [b'["7","x"]', 6, b"\x01\x02", b"key"]
    assert raw.cmd("FCALL_RO", "f", 1, "key", "3") == [b'["3"]', 2, b"\x01\x02", b"key"]
    raw.cmd("FUNCTION", "FLUSH")


def test_functions_cannot_modify_the_libraries(raw):
    raw.cmd("FUNCTION", "FLUSH")
    code = ("#!lua name=bad\n"
            "redis.register_function('g', function() cjson.encode = nil end)")
    assert raw.cmd("FUNCTION", "LOAD", code) == b"bad"
    reply = raw.cmd("FCALL", "g", 0)
    assert isinstance(reply, Error) and "Attempt to modify a readonly table" in reply
    raw.cmd("FUNCTION", "FLUSH")


def test_libraries_not_visible_while_loading(raw):
    # Redis 7.0 runs a library's top level with only the `redis` API
    raw.cmd("FUNCTION", "FLUSH")
    code = ("#!lua name=t\nlocal x = cjson.encode({1})\n"
            "redis.register_function('f', function() return x end)")
    assert raw.cmd("FUNCTION", "LOAD", code) == Error(
        "ERR Error registering functions: ERR user_function:2: Script attempted to access "
        "nonexistent global variable 'cjson'")


# ---------------------------------------------------------------- cjson

def test_cjson_encode(raw):
    assert ev(raw, "return cjson.encode({1,2,3})") == b"[1,2,3]"
    assert ev(raw, "return cjson.encode({a={b={1,'x',true,false}}})") == \
        b'{"a":{"b":[1,"x",true,false]}}'
    assert ev(raw, "return cjson.encode({})") == b"{}"
    assert ev(raw, "return cjson.encode('')") == b'""'
    assert ev(raw, "return cjson.encode(1/3)") == b"0.33333333333333"
    assert ev(raw, "return cjson.encode({0.1, 1e300, -0.0, 123456789012345678, 2^53})") == \
        b"[0.1,1e+300,-0,1.2345678901235e+17,9.007199254741e+15]"
    assert ev(raw, "return cjson.encode('a\\0b\"\\n/\\1' .. string.char(127, 128, 255))") == \
        b'"a\\u0000b\\"\\n\\/\\u0001\\u007f\x80\xff"'
    assert ev(raw, "return cjson.encode({[1]=1,[3]=2})") == b"[1,null,2]"
    assert ev(raw, "return cjson.encode({[1]=1,[2]=2,x=1})") == b'{"1":1,"2":2,"x":1}'
    assert ev(raw, "return cjson.encode({[0]=1})") == b'{"0":1}'
    assert ev(raw, "return cjson.encode({[1.5]=1})") == b'{"1.5":1}'
    assert ev(raw, "return cjson.encode(cjson.null)") == b"null"
    assert ev(raw, "return cjson.encode(KEYS)") == b"{}"
    assert ev(raw, "return cjson.encode(ARGV)") == b"{}"
    assert raw.cmd("EVAL", "return cjson.encode(ARGV)", 0, "a", "b") == b'["a","b"]'
    assert ev(raw, "return cjson.encode(setmetatable({}, {__index={1}}))") == b"{}"


@pytest.mark.parametrize("body,msg", [
    ("return cjson.encode(0/0)", "Cannot serialise number: must not be NaN or Inf"),
    ("return cjson.encode(1/0)", "Cannot serialise number: must not be NaN or Inf"),
    ("return cjson.encode({[1]=1,[100]=2})", "Cannot serialise table: excessively sparse array"),
    ("return cjson.encode(function() end)", "Cannot serialise function: type not supported"),
    ("return cjson.encode({[true]=1})",
     "Cannot serialise boolean: table key must be a number or string"),
    ("local t={} local c=t for i=1,1100 do c[1]={} c=c[1] end return cjson.encode(t)",
     "Cannot serialise, excessive nesting (1001)"),
    ("local t={} t[1]=t return cjson.encode(t)", "Cannot serialise, excessive nesting (1001)"),
    ("local t={} t.a={t} return cjson.encode(t)", "Cannot serialise, excessive nesting (1001)"),
    # a table that holds itself twice: the first path too deep is the error, at once
    ("local t={} t[1]=t t[2]=t return cjson.encode(t)",
     "Cannot serialise, excessive nesting (1001)"),
    ("local t={} t.a=t t.b=t return cjson.encode(t)", "Cannot serialise, excessive nesting (1001)"),
    ("local t={} t[1]=t t[2]=t t[3]=function() end return cjson.encode(t)",
     "Cannot serialise, excessive nesting (1001)"),
    ("return cjson.encode()", "bad argument #1 to 'encode' (expected 1 argument)"),
    ("return cjson.encode(1,2)", "bad argument #1 to 'encode' (expected 1 argument)"),
])
def test_cjson_encode_errors(raw, body, msg):
    lua_err(raw, body, msg)


def test_cjson_decode(raw):
    assert ev(raw, "return cjson.decode('[1,2,3]')") == [1, 2, 3]
    assert ev(raw, "return cjson.decode('{\"a\":1}').a") == 1
    assert ev(raw, "return type(cjson.decode('null'))") == b"userdata"
    assert ev(raw, "return tostring(cjson.decode('null') == cjson.null)") == b"true"
    assert ev(raw, "return cjson.decode('[1,null,3]')") == [1, None, 3]
    assert ev(raw, "return #cjson.decode('[1,null,3]')") == 3
    assert ev(raw, "return cjson.decode('{\"a\":[1,2,{\"b\":null}]}').a[3].b == cjson.null "
                   "and 1 or 0") == 1
    assert ev(raw, "return cjson.decode('\"\\\\u00e9\"')") == b"\xc3\xa9"
    assert ev(raw, "return cjson.decode('\"\\\\ud83d\\\\ude00\"')") == b"\xf0\x9f\x98\x80"
    assert ev(raw, "return cjson.decode('0x10')") == 16
    assert ev(raw, "return cjson.decode('01')") == 1
    assert ev(raw, "return cjson.decode(5)") == 5
    assert ev(raw, "return cjson.decode(string.rep(' ', 10) .. '7')") == 7
    assert ev(raw, "return cjson.decode('[1]\\0')") == [1]
    assert ev(raw, "return tostring(cjson.decode('-Infinity'))") == b"-inf"
    assert ev(raw, "return cjson.decode(string.rep('[', 999) .. string.rep(']', 999)) and 1") == 1
    assert ev(raw, "return cjson.decode('[' .. string.rep('1,', 100000) .. '2]')[100001]") == 2
    assert ev(raw, "return cjson.decode(cjson.encode({a={1,{b='c'}}})).a[2].b") == b"c"


@pytest.mark.parametrize("body,msg", [
    ("return cjson.decode('{')", "Expected object key string but found T_END at character 2"),
    ("return cjson.decode('[1,2')", "Expected comma or array end but found T_END at character 5"),
    ("return cjson.decode('')", "Expected value but found T_END at character 1"),
    ("return cjson.decode('\\0')", "Expected value but found T_END at character 1"),
    ("return cjson.decode('nul')", "Expected value but found invalid token at character 1"),
    ("return cjson.decode('[1,2,]')", "Expected value but found T_ARR_END at character 6"),
    ("return cjson.decode('{\"a\" 1}')", "Expected colon but found T_NUMBER at character 6"),
    ("return cjson.decode('{1:2}')", "Expected object key string but found T_NUMBER at character 2"),
    ("return cjson.decode('\"abc')",
     "Expected value but found unexpected end of string at character 5"),
    ("return cjson.decode('[\"\\\\x\"]')", "Expected value but found invalid escape code at character 3"),
    ("return cjson.decode('\"\\\\ud800\"')",
     "Expected value but found invalid unicode escape code at character 2"),
    ("return cjson.decode('[-]')", "Expected value but found invalid number at character 2"),
    ("return cjson.decode('[1,2] x')", "Expected the end but found invalid token at character 7"),
    ("return cjson.decode(string.rep('[', 2000) .. string.rep(']', 2000))",
     "Found too many nested data structures (1001) at character 1001"),
    ("return cjson.decode(string.rep('{\"a\":', 2000) .. '1' .. string.rep('}', 2000))",
     "Found too many nested data structures (1001) at character 5001"),
    ("return cjson.decode()", "bad argument #1 to 'decode' (expected 1 argument)"),
    ("return cjson.decode({})", "bad argument #1 to 'decode' (string expected, got table)"),
])
def test_cjson_decode_errors(raw, body, msg):
    lua_err(raw, body, msg)


def test_cjson_errors_caught_by_pcall(raw):
    # raised from a C function: no script position, as on Redis
    assert ev(raw, "local ok, e = pcall(cjson.decode, '{') return e") == \
        b"Expected object key string but found T_END at character 2"
    assert ev(raw, "local ok, e = pcall(cjson.encode, function() end) return e") == \
        b"Cannot serialise function: type not supported"
    assert ev(raw, "local ok, e = pcall(function() return cjson.decode('[') end) return e") == \
        b"user_script:1: Expected value but found T_END at character 2"


def test_cjson_null_in_replies(raw):
    assert ev(raw, "return cjson.null") is None
    assert ev(raw, "return {cjson.null, 1}") == [None, 1]
    assert ev(raw, "return tostring(cjson.null)") == b"userdata: (nil)"


def test_cjson_settings_on_new_tables(raw):
    assert ev(raw, "return {cjson.encode_max_depth(), cjson.encode_number_precision(), "
                   "cjson.decode_max_depth()}") == [1000, 14, 1000]
    assert ev(raw, "return {cjson.encode_sparse_array()}") == [None, 2, 10]
    assert ev(raw, "local c = cjson.new() c.encode_max_depth(2) "
                   "return {pcall(c.encode, {{{1}}})}") == [None, b"Cannot serialise, excessive nesting (3)"]
    assert ev(raw, "local c = cjson.new() c.encode_sparse_array(true) "
                   "return c.encode({[1]=1,[100]=2}):len()") == 15
    assert ev(raw, "local c = cjson.new() c.encode_number_precision(3) return c.encode(1/3)") == b"0.333"
    assert ev(raw, "local c = cjson.new() c.encode_invalid_numbers(true) return c.encode(1/0)") == b"inf"
    assert ev(raw, "local c = cjson.new() c.x = 1 return c.x") == 1
    lua_err(raw, "return cjson.new().encode_max_depth(0)",
            "bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)")
    # the global settings are untouched
    assert ev(raw, "return {cjson.encode_max_depth(), cjson.encode_number_precision()}") == [1000, 14]


def test_cjson_deep_nesting_with_raised_depth(raw):
    # the Lua stack bounds the recursion whatever the depth setting says
    body = ("local c = cjson.new() c.encode_max_depth(2147483647) c.decode_max_depth(2147483647) "
            "local t = {} local x = t for i = 1, 100000 do x[1] = {} x = x[1] end "
            "local ok1 = pcall(c.encode, t) "
            "local ok2 = pcall(c.decode, string.rep('[', 100000) .. string.rep(']', 100000)) "
            "return {ok1 and 1 or 0, ok2 and 1 or 0}")
    assert ev(raw, body) == [0, 0]
    assert raw.cmd("PING") == "PONG"


@pytest.mark.skipif(is_redis(), reason="ours: Redis would try to build gigabytes")
def test_cjson_refuses_huge_output(raw):
    # a sparse array with every check off would be gigabytes of "null,"
    lua_err(raw, "local c = cjson.new() c.encode_sparse_array(false, 0) "
                 "return c.encode({[2^30] = 1})", "Cannot serialise, output too large")
    lua_err(raw, "local c = cjson.new() c.encode_sparse_array(false, 2, 2147483647) "
                 "return c.encode({[1] = 1, [2^31 - 1] = 1})", "Cannot serialise, output too large")
    # a shared subtable makes the output exponential in the nesting
    lua_err(raw, "local t = {string.rep('x', 1000)} for i = 1, 30 do t = {t, t} end "
                 "return cjson.encode(t)", "Cannot serialise, output too large")


# ---------------------------------------------------------------- cmsgpack

def test_cmsgpack_pack_bytes(raw):
    assert ev(raw, "return cmsgpack.pack(1,2,3)") == b"\x01\x02\x03"
    assert ev(raw, "return cmsgpack.pack({})") == b"\x90"
    assert ev(raw, "return cmsgpack.pack(nil)") == b"\xc0"
    assert ev(raw, "return cmsgpack.pack({1,2,{a=1}})") == b"\x93\x01\x02\x81\xa1a\x01"
    body = ("return cmsgpack.pack(1.5, 0.1, -1, -33, -129, -40000, -3000000000, 200, 70000, "
            "5000000000, 2^63, -2^63, 1/0, -0.0, 127, 128, -32, 255, 256, 65535, 65536, 2^32-1, "
            "2^32, -128, -32768, -32769, -2^31, -2^31-1, -1/0, 2^64, 1e300, 3.4e38, 2^-149)")
    assert ev(raw, body).hex() == (
        "ca3fc00000cb3fb999999999999affd0dfd1ff7fd2ffff63c0d3ffffffff4d2fa200ccc8ce00011170"
        "cf000000012a05f200ca5f000000d38000000000000000ca7f800000007fcc80e0ccffcd0100cdffff"
        "ce00010000ceffffffffcf0000000100000000d080d18000d2ffff7fffd280000000d3ffffffff7fffffff"
        "caff800000ca5f800000cb7e37e43c8800759ccb47eff933c78cdfadca00000001")
    assert ev(raw, "return cmsgpack.pack(true, false, function() end, cjson.null, "
                   "string.rep('a', 31), string.rep('a', 32))") == \
        b"\xc3\xc2\xc0\xc0\xbf" + b"a" * 31 + b"\xd9\x20" + b"a" * 32
    assert ev(raw, "return cmsgpack.pack(string.rep('a', 255)):sub(1, 3)") == b"\xd9\xffa"
    assert ev(raw, "return cmsgpack.pack(string.rep('a', 256)):sub(1, 3)") == b"\xda\x01\x00"
    assert ev(raw, "return cmsgpack.pack(string.rep('a', 65536)):sub(1, 5)") == b"\xdb\x00\x01\x00\x00"
    assert ev(raw, "local t = {} for i = 1, 20 do t[i] = i end "
                   "return cmsgpack.pack(t):sub(1, 3)") == b"\xdc\x00\x14"
    assert ev(raw, "local t = {} for i = 1, 70000 do t[i] = 1 end "
                   "return cmsgpack.pack(t):sub(1, 5)") == b"\xdd\x00\x01\x11\x70"
    assert ev(raw, "local t = {} for i = 1, 20 do t['k' .. i] = i end "
                   "return cmsgpack.pack(t):sub(1, 3)") == b"\xde\x00\x14"
    # tables that are not 1..n are maps
    assert ev(raw, "return cmsgpack.pack({[1]=1,[3]=3})") == b"\x82\x01\x01\x03\x03"
    assert ev(raw, "return cmsgpack.pack({1,2,nil,4})") == b"\x83\x01\x01\x02\x02\x04\x04"
    assert ev(raw, "return cmsgpack.pack({[0]=1})") == b"\x81\x00\x01"
    assert ev(raw, "return cmsgpack.pack({[1.5]=1})") == b"\x81\xca\x3f\xc0\x00\x00\x01"
    assert ev(raw, "return cmsgpack.pack(KEYS)") == b"\x90"


def test_cmsgpack_nesting_is_capped(raw):
    # 16 levels, then nil: cyclic tables encode too
    assert ev(raw, "local t = {} t[1] = t return cmsgpack.pack(t)") == b"\x91" * 16 + b"\xc0"
    assert ev(raw, "local t = {} t.a = t return cmsgpack.pack(t)") == b"\x81\xa1a" * 16 + b"\xc0"


def test_cmsgpack_round_trip(raw):
    assert ev(raw, "return {cmsgpack.unpack(cmsgpack.pack(1, 'two', {3, 4}, true))}") == \
        [1, b"two", [3, 4], 1]
    assert ev(raw, "local a, b, c, d = cmsgpack.unpack(cmsgpack.pack(1, 'two', {3, 4}, {x = 5})) "
                   "return {a, b, c[2], d.x}") == [1, b"two", 4, 5]
    body = ("local vals = {0, -1, 127, 128, -33, 255, 65535, 65536, -40000, 2^32, -2^40, 2^53, "
            "1.5, 0.1, -1e300, 1/0, string.rep('s', 70000), ''} "
            "for i, v in ipairs(vals) do local u = cmsgpack.unpack(cmsgpack.pack(v)) "
            "if u ~= v then return {i, tostring(u)} end end "
            "local u = cmsgpack.unpack(cmsgpack.pack({a = {1, {b = 'c'}}, [5] = false})) "
            "return {u.a[2].b, tostring(u[5])}")
    assert ev(raw, body) == [b"c", b"false"]


def test_cmsgpack_unpack_types(raw):
    assert ev(raw, "return {cmsgpack.unpack('\\217\\2hi\\218\\0\\2hi\\219\\0\\0\\0\\2hi')}") == \
        [b"hi", b"hi", b"hi"]
    assert ev(raw, "return {cmsgpack.unpack('\\204\\255\\205\\255\\255\\206\\255\\255\\255\\255')}") == \
        [255, 65535, 4294967295]
    assert ev(raw, "return {cmsgpack.unpack('\\208\\255\\209\\255\\254\\210\\255\\255\\255\\253')}") == \
        [-1, -2, -3]
    assert ev(raw, "return tostring(cmsgpack.unpack('\\207\\0\\0\\0\\1\\0\\0\\0\\0'))") == b"4294967296"
    assert ev(raw, "return tostring(cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255'))") == b"-1"
    assert ev(raw, "return tostring(cmsgpack.unpack('\\211\\128\\0\\0\\0\\0\\0\\0\\0'))") == \
        b"-9.2233720368548e+18"
    assert ev(raw, "return tostring(cmsgpack.unpack('\\203\\127\\240\\0\\0\\0\\0\\0\\0'))") == b"inf"
    assert ev(raw, "return tostring(cmsgpack.unpack('\\202\\127\\192\\0\\0'))") == b"nan"
    assert ev(raw, "local a, b, c, d, e, f = cmsgpack.unpack('\\195\\194\\192\\224\\255\\127') "
                   "return {tostring(a), tostring(b), tostring(c), d, e, f}") == \
        [b"true", b"false", b"nil", -32, -1, 127]
    assert ev(raw, "return {cmsgpack.unpack('\\222\\0\\1\\1\\2')}") == [[2]]
    assert ev(raw, "return cmsgpack.unpack('\\220\\0\\2\\1\\2')[2]") == 2
    assert ev(raw, "return {cmsgpack.unpack('')}") == []
    assert ev(raw, "return {cmsgpack.unpack(5)}") == [53]
    assert ev(raw, "return #{cmsgpack.unpack(string.rep('\\1', 7999))}") == 7999


def test_cmsgpack_unpack_one_and_limit(raw):
    pk = "cmsgpack.pack(1,2,3)"
    assert ev(raw, f"return {{cmsgpack.unpack_one({pk})}}") == [1, 1]
    assert ev(raw, f"return {{cmsgpack.unpack_one({pk}, 1)}}") == [2, 2]
    assert ev(raw, f"return {{cmsgpack.unpack_one({pk}, 2)}}") == [-1, 3]
    assert ev(raw, f"return {{cmsgpack.unpack_one({pk}, 3)}}") == [-1]
    assert ev(raw, "return {cmsgpack.unpack_one('', 0)}") == [-1]
    assert ev(raw, "return {cmsgpack.unpack_one('\\1\\2', 1.5)}") == [-1, 2]
    assert ev(raw, f"return {{cmsgpack.unpack_limit({pk}, 2)}}") == [2, 1, 2]
    assert ev(raw, f"return {{cmsgpack.unpack_limit({pk}, 2, 1)}}") == [-1, 2, 3]
    assert ev(raw, f"return {{cmsgpack.unpack_limit({pk}, 0)}}") == [1, 2, 3]
    assert ev(raw, "return {cmsgpack.unpack_limit('\\1\\2\\3', 5)}") == [-1, 1, 2, 3]
    assert ev(raw, "return {cmsgpack.unpack_limit('\\1\\146\\1', 1)}") == [1, 1]
    assert ev(raw, "return #{cmsgpack.unpack_limit(string.rep('\\1', 8000), 7998)}") == 7999


@pytest.mark.parametrize("body,msg", [
    ("return {cmsgpack.unpack('\\146\\1')}", "Missing bytes in input."),
    ("return {cmsgpack.unpack('\\1\\146\\1')}", "Missing bytes in input."),
    ("return {cmsgpack.unpack('\\204')}", "Missing bytes in input."),
    ("return {cmsgpack.unpack('\\207\\1\\2')}", "Missing bytes in input."),
    ("return {cmsgpack.unpack('\\218\\0')}", "Missing bytes in input."),
    ("return {cmsgpack.unpack('\\218\\0\\5ab')}", "Missing bytes in input."),
    ("return {cmsgpack.unpack('\\219\\255\\255\\255\\255')}", "Missing bytes in input."),
    ("return {cmsgpack.unpack('\\221\\255\\255\\255\\255')}", "Missing bytes in input."),
    ("return {cmsgpack.unpack('\\223\\255\\255\\255\\255')}", "Missing bytes in input."),
    ("return {cmsgpack.unpack('\\129\\1')}", "Missing bytes in input."),
    ("return {cmsgpack.unpack_one('\\146\\1')}", "Missing bytes in input."),
    ("return {cmsgpack.unpack('\\193')}", "Bad data format in input."),
    ("return {cmsgpack.unpack('\\196\\2hi')}", "Bad data format in input."),
    ("return {cmsgpack.unpack('\\199\\1\\1\\1')}", "Bad data format in input."),
    ("return {cmsgpack.unpack('\\212\\1\\1')}", "Bad data format in input."),
    ("return {cmsgpack.unpack(string.rep('\\145', 100000) .. '\\1')}",
     "stack overflow (in function mp_decode_to_lua_array)"),
    ("return {cmsgpack.unpack(string.rep('\\129\\1', 100000) .. '\\1')}",
     "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"),
    ("return #{cmsgpack.unpack(string.rep('\\192', 100000))}",
     "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"),
    ("return {cmsgpack.unpack_one(cmsgpack.pack(1,2,3), 4)}",
     "Start offset 4 greater than input length 3."),
    ("return {cmsgpack.unpack_one(cmsgpack.pack(1,2,3), -1)}",
     "Invalid request to unpack with offset of -1 and limit of 3."),
    ("return {cmsgpack.unpack_limit(cmsgpack.pack(1,2,3), -1)}",
     "Invalid request to unpack with offset of 0 and limit of 3."),
    ("return cmsgpack.pack()", "bad argument #0 to 'pack' (MessagePack pack needs input.)"),
    ("return {cmsgpack.unpack()}", "bad argument #1 to 'unpack' (string expected, got no value)"),
    ("return {cmsgpack.unpack_one()}",
     "bad argument #1 to 'unpack_one' (string expected, got no value)"),
    ("return {cmsgpack.unpack_one('\\1', 'x')}",
     "bad argument #2 to 'unpack_one' (number expected, got string)"),
    ("return {cmsgpack.unpack_limit('\\1\\2\\3')}",
     "bad argument #2 to 'unpack_limit' (number expected, got no value)"),
])
def test_cmsgpack_errors(raw, body, msg):
    lua_err(raw, body, msg)


def test_cmsgpack_bad_map_keys(raw):
    lua_err(raw, "return {cmsgpack.unpack('\\129\\192\\1')}", "table index is nil", prefix="")
    lua_err(raw, "return {cmsgpack.unpack('\\129\\202\\127\\192\\0\\0\\1')}", "table index is NaN",
            prefix="")


def test_cmsgpack_fuzz_never_crashes(raw):
    # every truncation and every byte flip of a rich message: a value or an error, never a crash
    body = ("local s = cmsgpack.pack({a = {1, 2.5, 'x'}, b = {c = true, [2] = -70000}}, "
            "string.rep('y', 300), 2^40) local n = 0 "
            "for i = 0, #s - 1 do if pcall(cmsgpack.unpack, s:sub(1, i)) then n = n + 1 end end "
            "for i = 1, #s do for _, b in ipairs({0, 0x7f, 0x80, 0xc1, 0xdc, 0xdf, 0xff}) do "
            "pcall(cmsgpack.unpack, s:sub(1, i - 1) .. string.char(b) .. s:sub(i + 1)) end end "
            "return n")
    assert isinstance(ev(raw, body), int)
    assert raw.cmd("PING") == "PONG"


# ---------------------------------------------------------------- bit

def test_bit(raw):
    assert ev(raw, "return {bit.tohex(65535), bit.tohex(65535, 2), bit.tohex(-1, -4), "
                   "bit.tobit(2^32 + 5), bit.band(0xff, 0x0f), bit.bor(1, 2, 4), bit.bxor(3, 1), "
                   "bit.bnot(0), bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4), "
                   "bit.rol(0x12345678, 8), bit.ror(0x12345678, 8), bit.bswap(0x12345678)}") == [
        b"0000ffff", b"ff", b"FFFF", 5, 15, 7, 2, -1, -2147483648, 15, -16, 878082066,
        2014458966, 2018915346]
    assert ev(raw, "return {bit.tohex(-1), bit.tohex(255, -2), bit.tohex(0x7fffffff), "
                   "bit.tohex(1, 0), bit.tohex(1, -100), bit.tohex(1, 100)}") == [
        b"ffffffff", b"FF", b"7fffffff", b"", b"00000001", b"00000001"]
    assert ev(raw, "return {bit.lshift(1, 32), bit.lshift(1, 33), bit.rshift(0x80000000, 31), "
                   "bit.arshift(0x80000000, 31), bit.rol(1, 33), bit.ror(1, 1)}") == [
        1, 2, 1, -1, 2, -2147483648]
    assert ev(raw, "return {bit.band(1.9, 3), bit.bor(-0.5), bit.bxor(2^31), bit.tobit(-2^31 - 1), "
                   "bit.tobit(2^53), tostring(bit.tobit(0xffffffff))}") == [
        2, 0, -2147483648, 2147483647, 0, b"-1"]


@pytest.mark.parametrize("body,msg", [
    ("return bit.band('a')", "bad argument #1 to 'band' (number expected, got string)"),
    ("return bit.band()", "bad argument #1 to 'band' (number expected, got no value)"),
    ("return bit.bnot()", "bad argument #1 to 'bnot' (number expected, got no value)"),
    ("return bit.lshift(1)", "bad argument #2 to 'lshift' (number expected, got no value)"),
    ("return bit.tohex('x')", "bad argument #1 to 'tohex' (number expected, got string)"),
])
def test_bit_errors(raw, body, msg):
    lua_err(raw, body, msg)


# ---------------------------------------------------------------- struct

def test_struct_pack(raw):
    assert ev(raw, "return struct.pack('>I2', 258)") == b"\x01\x02"
    assert ev(raw, "return struct.pack('<I2', 258)") == b"\x02\x01"
    assert ev(raw, "return struct.pack(' > I2 ', 1)") == b"\x00\x01"
    assert ev(raw, "return struct.pack('c0', 'abc')") == b"abc"
    assert ev(raw, "return struct.pack('c0c0', 'ab', 'cd')") == b"abcd"
    assert ev(raw, "return struct.pack('>c1s', 'ab', 'cd')") == b"acd\x00"
    assert ev(raw, "return struct.pack('c', 'abcd')") == b"a"
    assert ev(raw, "return struct.pack('c1', 5)") == b"5"
    assert ev(raw, "return struct.pack('s', 'a\\0b')") == b"a\x00b\x00"
    assert ev(raw, "return struct.pack('x')") == b"\x00"
    assert ev(raw, "return struct.pack('!')") == b""
    assert ev(raw, "return struct.pack('i0', 5)") == b""
    assert ev(raw, "return struct.pack('!2bh', 1, 2)") == b"\x01\x00\x02\x00"
    assert ev(raw, "return struct.pack('!bd', 1, 2)") == b"\x01" + b"\x00" * 7 + b"\x00" * 7 + b"@"
    assert ev(raw, "return struct.pack('!4bsi', 1, 'abc', 2)") == b"\x01abc\x00\x00\x00\x00\x02\x00\x00\x00"
    assert ev(raw, "return struct.pack('!4bc3i', 1, 'abc', 2)") == b"\x01abc\x02\x00\x00\x00"
    assert ev(raw, "return struct.pack('>!4hI3', 1, 2)") == b"\x00\x01\x00\x00\x02"
    assert ev(raw, "return struct.pack('<hHlL', -2, 65534, -3, 3)") == \
        b"\xfe\xff\xfe\xff\xfd\xff\xff\xff\xff\xff\xff\xff\x03\x00\x00\x00\x00\x00\x00\x00"
    assert ev(raw, "return struct.pack('lLhHT', 1, 2, 3, 4, 5)") == \
        b"\x01" + b"\x00" * 7 + b"\x02" + b"\x00" * 7 + b"\x03\x00\x04\x00\x05" + b"\x00" * 7
    assert ev(raw, "return struct.pack('i3', -1)") == b"\xff\xff\xff"
    assert ev(raw, "return struct.pack('I2', -1)") == b"\xff\xff"
    assert ev(raw, "return struct.pack('I2', 1.9)") == b"\x01\x00"
    assert ev(raw, "return struct.pack('I2', 70000)") == b"\x70\x11"
    assert ev(raw, "return struct.pack('>i16', -1)") == b"\x00" * 8 + b"\xff" * 8
    assert ev(raw, "return struct.pack('<i9', -2)") == b"\xfe" + b"\xff" * 7 + b"\x00"
    assert ev(raw, "return struct.pack('>f', 0.25)") == b">\x80\x00\x00"
    assert ev(raw, "return struct.pack('>d', 0.1)") == b"?\xb9\x99\x99\x99\x99\x99\x9a"
    assert ev(raw, "return struct.pack('<f', 1e300)") == b"\x00\x00\x80\x7f"
    # out-of-range numbers: the bits a C cast gives
    assert ev(raw, "return struct.pack('b', 1e300)") == b"\x00"
    assert ev(raw, "return struct.pack('I8', 2^64)") == b"\x00" * 8
    assert ev(raw, "return struct.pack('i8', -2^63)") == b"\x00" * 7 + b"\x80"
    assert ev(raw, "return #struct.pack(string.rep('x', 100000))") == 100000


def test_struct_unpack(raw):
    assert ev(raw, "return {struct.unpack('>I2', '\\1\\2')}") == [258, 3]
    assert ev(raw, "return {struct.unpack('>I2', 'abcd', 3)}") == [25444, 5]
    assert ev(raw, "return {struct.unpack('>I2', 'ab', 1.9)}") == [24930, 3]
    assert ev(raw, "return {struct.unpack('b', '\\255')}") == [-1, 2]
    assert ev(raw, "return {struct.unpack('>hH', '\\255\\254\\255\\254')}") == [-2, 65534, 5]
    assert ev(raw, "return {struct.unpack('>I3', '\\1\\2\\3')}") == [66051, 4]
    assert ev(raw, "return {struct.unpack('>i3', '\\255\\2\\3')}") == [-65021, 4]
    assert ev(raw, "return {struct.unpack('Bc0', '\\3abc')}") == [b"abc", 5]
    assert ev(raw, "return {struct.unpack('fc0', '\\0\\0\\192\\63xyz')}") == [b"x", 6]
    assert ev(raw, "return {struct.unpack('!4bc0', '\\2\\0\\0\\0xyz')}") == [b"\x00\x00", 4]
    assert ev(raw, "return {struct.unpack('s', 'abc\\0d')}") == [b"abc", 5]
    assert ev(raw, "return {struct.unpack('c', 'abcd')}") == [b"a", 2]
    assert ev(raw, "return {struct.unpack('c3', 'abcd')}") == [b"abc", 4]
    assert ev(raw, "return {struct.unpack('!4bi', '\\1\\0\\0\\0\\2\\0\\0\\0')}") == [1, 2, 9]
    assert ev(raw, "return {struct.unpack('x x', 'ab')}") == [3]
    assert ev(raw, "return {struct.unpack('', 'ab')}") == [1]
    assert ev(raw, "return {struct.unpack('i0', 'x')}") == [0, 1]
    assert ev(raw, "return {struct.unpack('<i9', struct.pack('<i9', -2))}") == [-2, 10]
    assert ev(raw, "return {struct.unpack('>i16', string.rep('\\255', 16))}") == [-1, 17]
    assert ev(raw, "return tostring(struct.unpack('>I8', string.rep('\\255', 8)))") == b"1.844674407371e+19"
    assert ev(raw, "return tostring(struct.unpack('>i8', '\\128' .. string.rep('\\0', 7)))") == \
        b"-9.2233720368548e+18"
    assert ev(raw, "return tostring(struct.unpack('<i12', string.rep('\\0', 7) .. '\\128' .. "
                   "string.rep('\\0', 4)))") == b"-2147483648"
    assert ev(raw, "return tostring(struct.unpack('<d', struct.pack('<d', 1.5)))") == b"1.5"
    assert ev(raw, "return tostring(struct.unpack('>f', struct.pack('>f', 0.25)))") == b"0.25"
    assert ev(raw, "return #{struct.unpack(string.rep('b', 7997), string.rep('a', 8000))}") == 7998


def test_struct_size(raw):
    assert ev(raw, "return {struct.size('>I2'), struct.size('i'), struct.size('!4bi'), "
                   "struct.size('q'), struct.size('>I2i3!8d'), struct.size('!bd'), "
                   "struct.size('!2bi16'), struct.size('x'), struct.size('c10'), struct.size(' '), "
                   "struct.size('!64b'), struct.size('i0')}") == [2, 4, 8, 0, 16, 16, 18, 1, 10, 0, 1, 0]
    assert ev(raw, "return struct.size(string.rep('c2147483647', 3))") == 6442450941


@pytest.mark.parametrize("body,msg", [
    ("return struct.pack('q', 1)", "bad argument #1 to 'pack' (invalid format option 'q')"),
    ("return struct.pack('=I2', 1)", "bad argument #1 to 'pack' (invalid format option '=')"),
    ("return struct.pack(5, 1)", "bad argument #1 to 'pack' (invalid format option '5')"),
    ("return struct.pack('i10a', 1)", "bad argument #1 to 'pack' (invalid format option 'a')"),
    ("return struct.pack('i100', 1)", "integral size 100 is larger than limit of 32"),
    ("return struct.pack('i99999999999', 1)", "integral size overflow"),
    ("return {struct.unpack('c99999999999', 'a')}", "integral size overflow"),
    ("return struct.pack('!3i', 1)", "alignment 3 is not a power of 2"),
    ("return struct.size('!0')", "alignment 0 is not a power of 2"),
    ("return struct.pack('c5', 'ab')", "bad argument #3 to 'pack' (string too short)"),
    ("return struct.pack('c2147483647', 'a')", "bad argument #3 to 'pack' (string too short)"),
    ("return struct.pack('b', 'x')", "bad argument #2 to 'pack' (number expected, got string)"),
    ("return struct.pack('I2')", "bad argument #2 to 'pack' (number expected, got nil)"),
    ("return struct.pack('c0i', string.rep('a', 20000))",
     "bad argument #3 to 'pack' (number expected, got nil)"),
    ("return struct.size('s')", "bad argument #1 to 'size' (option 's' has no fixed size)"),
    ("return struct.size('c0')", "bad argument #1 to 'size' (option 'c0' has no fixed size)"),
    ("return struct.size('bb=')", "bad argument #1 to 'size' (invalid format option '=')"),
    ("return {struct.unpack('q', 'a')}", "bad argument #1 to 'unpack' (invalid format option 'q')"),
    ("return {struct.unpack('c0', '\\3abc')}", "format 'c0' needs a previous size"),
    ("return {struct.unpack('Bc0', '\\9abc')}", "bad argument #2 to 'unpack' (data string too short)"),
    ("return {struct.unpack('Ic0', '\\255\\255\\255\\255x')}",
     "bad argument #2 to 'unpack' (data string too short)"),
    ("return {struct.unpack('bc0', '\\255x')}", "bad argument #2 to 'unpack' (data string too short)"),
    ("return {struct.unpack('c2147483647', 'a')}",
     "bad argument #2 to 'unpack' (data string too short)"),
    ("return {struct.unpack('s', 'abc')}", "unfinished string in data"),
    ("return {struct.unpack('>I4', 'ab')}", "bad argument #2 to 'unpack' (data string too short)"),
    ("return {struct.unpack('>I2', 'abcd', 0)}",
     "bad argument #3 to 'unpack' (offset must be 1 or greater)"),
    ("return {struct.unpack('>I2', 'abcd', 4)}", "bad argument #2 to 'unpack' (data string too short)"),
    ("return {struct.unpack('>I2', 'ab', -1)}", "bad argument #2 to 'unpack' (data string too short)"),
    ("return {struct.unpack('>I2', 'ab', 'x')}",
     "bad argument #3 to 'unpack' (number expected, got string)"),
    ("return {struct.unpack('>I2')}", "bad argument #2 to 'unpack' (string expected, got no value)"),
    ("return {struct.unpack(string.rep('b', 100000), string.rep('a', 100000))}",
     "stack overflow (too many results)"),
    ("return #{struct.unpack(string.rep('b', 7998), string.rep('a', 8000))}",
     "stack overflow (too many results)"),
])
def test_struct_errors(raw, body, msg):
    lua_err(raw, body, msg)


def test_struct_errors_caught_by_pcall(raw):
    assert ev(raw, "local ok, e = pcall(struct.pack, 'i99') return e") == \
        b"integral size 99 is larger than limit of 32"
    assert ev(raw, "local ok, e = pcall(cmsgpack.unpack, '\\145') return e") == b"Missing bytes in input."


def test_no_print_global(raw):
    """Redis 7.0's sandbox has no print: reading it is the undefined-global error."""
    lua_err(raw, "return type(print)", "Script attempted to access nonexistent global variable 'print'")
