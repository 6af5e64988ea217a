"""
The Redis 7.0 geo commands (geo module, over the zsets module's sorted sets): GEOADD, GEOPOS,
GEODIST, GEOHASH, GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and the _RO forms.
Expected values are redis-server 7.0's own replies (every test also runs with
DF_TEST_SERVER=redis). The storing commands run with at least three threads too, so source and
destination usually live in different shards. A seeded random workload runs against a
redis-server and the server under test side by side and compares every reply.
"""
import random
import threading

import pytest
import redis

from conftest import Server, per_thread_count_server, callbackless_client
from helpers import WRONGTYPE, SYNTAX, NOT_INT, err, wait_blocked

INVALID_PAIR = "invalid longitude,latitude pair 1.000000,100.000000"
UNIT = "unsupported unit provided. please use M, KM, FT, MI"
NOT_FLOAT = "value is not a valid float"
NO_MEMBER = "could not decode requested zset member"

PALERMO, CATANIA = "3479099956230698", "3479447370796909"
PALERMO_XY = ["13.36138933897018433", "38.11555639549629859"]
CATANIA_XY = ["15.08726745843887329", "37.50266842333162032"]
EDGE1_XY = ["12.7584877610206604", "38.78813451624225195"]
EDGE2_XY = ["17.24151045083999634", "38.78813451624225195"]


server = per_thread_count_server()


r = callbackless_client()


def sicily(r, key="Sicily"):
    assert r.execute_command("GEOADD", key, "13.361389", "38.115556", "Palermo",
                             "15.087269", "37.502669", "Catania") == 2
    assert r.execute_command("GEOADD", key, "12.758489", "38.788135", "edge1",
                             "17.241510", "38.788135", "edge2") == 2


def zall(r, key):
    return r.execute_command("ZRANGE", key, 0, -1, "WITHSCORES")


# ------------------------------------------------------------------------------ GEOADD

def test_geoadd_is_a_sorted_set_of_geohash_scores(r):
    sicily(r)
    assert r.execute_command("TYPE", "Sicily") == "zset"
    assert zall(r, "Sicily") == ["Palermo", PALERMO, "edge1", "3479273021651468",
                                 "Catania", CATANIA, "edge2", "3481342659049484"]
    assert r.execute_command("OBJECT", "ENCODING", "Sicily") == "listpack"
    assert r.execute_command("ZSCORE", "Sicily", "Palermo") == PALERMO
    # The limits themselves are accepted; the north-east corner overflows the 52 bits.
    assert r.execute_command("GEOADD", "k", "180", "85.05112878", "ne", "-180",
                             "-85.05112878", "sw") == 2
    assert zall(r, "k") == ["sw", "0", "ne", "13510798882111488"]


def test_geoadd_nx_xx_ch(r):
    assert r.execute_command("GEOADD", "k", "CH", "NX", "1", "2", "m") == 1
    assert r.execute_command("GEOADD", "k", "XX", "3", "4", "m", "5", "6", "n") == 0
    assert r.execute_command("GEOPOS", "k", "m", "n") == \
        [["2.99999982118606567", "3.99999910393250957"], None]
    assert r.execute_command("GEOADD", "k", "XX", "CH", "3", "4", "m", "5", "6", "m") == 1
    assert r.execute_command("GEOADD", "k", "NX", "CH", "7", "8", "m", "5", "6", "n") == 1
    assert r.execute_command("GEOPOS", "k", "m") == [["4.99999970197677612",
                                                       "6.00000055693963219"]]
    assert r.execute_command("GEOADD", "k", "ch", "xx", "1", "1", "m", "1", "1", "zz") == 1
    assert r.execute_command("GEOADD", "k", "1", "1", "m", "2", "2", "new") == 1
    assert r.execute_command("GEOADD", "nokey", "XX", "3", "4", "m") == 0
    assert r.execute_command("EXISTS", "nokey") == 0


def test_geoadd_errors(r):
    assert err(r, "GEOADD", "k", "1", "2") == \
        "wrong number of arguments for 'geoadd' command"
    assert err(r, "GEOADD", "k", "ch", "ch", "ch") == SYNTAX
    assert err(r, "GEOADD", "k", "nx", "xx", "1", "2", "m") == SYNTAX
    assert err(r, "GEOADD", "k", "nx", "1", "2") == SYNTAX
    assert err(r, "GEOADD", "k", "1", "2", "m", "3") == SYNTAX
    assert err(r, "GEOADD", "k", "1", "100", "m") == INVALID_PAIR
    assert err(r, "GEOADD", "k", "-180.5", "0", "m") == \
        "invalid longitude,latitude pair -180.500000,0.000000"
    assert err(r, "GEOADD", "k", "inf", "1", "m") == "invalid longitude,latitude pair inf,1.000000"
    assert err(r, "GEOADD", "k", "abc", "1", "m") == NOT_FLOAT
    assert err(r, "GEOADD", "k", "1", " 1", "m") == NOT_FLOAT
    assert err(r, "GEOADD", "k", "nan", "1", "m") == NOT_FLOAT
    # Every triple is checked before anything is added.
    assert err(r, "GEOADD", "k", "1", "2", "a", "1", "100", "b") == INVALID_PAIR
    assert r.execute_command("EXISTS", "k") == 0
    r.execute_command("SET", "s", "x")
    assert err(r, "GEOADD", "s", "1", "2", "m") == WRONGTYPE
    assert err(r, "GEOADD", "s", "1", "200", "m") == \
        "invalid longitude,latitude pair 1.000000,200.000000"


def test_geoadd_wakes_bzpopmin(server, r):
    out = []
    other = server.client()
    other.response_callbacks.clear()
    t = threading.Thread(target=lambda: out.append(other.execute_command("BZPOPMIN", "q", 10)))
    t.start()
    wait_blocked(r, 1)
    r.execute_command("GEOADD", "q", "13.361389", "38.115556", "Palermo")
    t.join(10)
    other.close()
    assert out == [["q", "Palermo", PALERMO]]


# ------------------------------------------------------------------------------ GEOPOS / GEOHASH / GEODIST

def test_geopos(r):
    sicily(r)
    assert r.execute_command("GEOPOS", "Sicily", "Palermo", "Catania", "edge1", "nope") == \
        [PALERMO_XY, CATANIA_XY, EDGE1_XY, None]
    assert r.execute_command("GEOPOS", "Sicily") == []
    assert r.execute_command("GEOPOS", "nokey", "a", "b") == [None, None]
    r.execute_command("GEOADD", "k", "180", "85.05112878", "ne", "-180", "-85.05112878", "sw")
    assert r.execute_command("GEOPOS", "k", "ne", "sw") == \
        [["180", "85.0511287799999991"], ["-179.99999731779098511", "-85.05112751263942528"]]
    # Any sorted set decodes, whatever its scores.
    r.execute_command("ZADD", "z", "0", "zero", "0.5", "half", "4503599627370496", "big")
    assert r.execute_command("GEOPOS", "z", "zero", "half", "big") == \
        [["-179.99999731779098511", "-85.05112751263942528"]] * 2 + \
        [["-179.99999731779098511", "85.0511287799999991"]]
    r.execute_command("SET", "s", "x")
    assert err(r, "GEOPOS", "s", "a") == WRONGTYPE


def test_geohash(r):
    sicily(r)
    assert r.execute_command("GEOHASH", "Sicily", "Palermo", "Catania", "edge1", "nope") == \
        ["sqc8b49rny0", "sqdtr74hyu0", "sqchdm4mq20", None]
    assert r.execute_command("GEOHASH", "Sicily") == []
    assert r.execute_command("GEOHASH", "nokey", "a", "b") == [None, None]
    r.execute_command("GEOADD", "k", "180", "85.05112878", "ne", "-180", "-85.05112878", "sw")
    assert r.execute_command("GEOHASH", "k", "ne", "sw") == ["bp05b5048p0", "00bh0hbj200"]
    r.execute_command("SET", "s", "x")
    assert err(r, "GEOHASH", "s", "a") == WRONGTYPE


def test_geodist(r):
    sicily(r)
    expected = {"m": "166274.1516", "km": "166.2742", "ft": "545518.8700", "mi": "103.3182",
                "M": "166274.1516", "Km": "166.2742", "FT": "545518.8700", "mI": "103.3182"}
    for unit, d in expected.items():
        assert r.execute_command("GEODIST", "Sicily", "Palermo", "Catania", unit) == d
    assert r.execute_command("GEODIST", "Sicily", "Palermo", "Catania") == "166274.1516"
    assert r.execute_command("GEODIST", "Sicily", "Palermo", "Palermo") == "0.0000"
    assert r.execute_command("GEODIST", "Sicily", "edge1", "edge2", "km") == "388.6271"
    assert r.execute_command("GEODIST", "Sicily", "Palermo", "nope") is None
    assert r.execute_command("GEODIST", "nokey", "a", "b") is None
    # The unit is checked first, even for a missing key or a key of another type.
    assert err(r, "GEODIST", "Sicily", "Palermo", "Catania", "parsec") == UNIT
    assert err(r, "GEODIST", "nokey", "a", "b", "bad") == UNIT
    assert err(r, "GEODIST", "Sicily", "Palermo", "Catania", "km", "x") == SYNTAX
    r.execute_command("SET", "s", "x")
    assert err(r, "GEODIST", "s", "a", "b") == WRONGTYPE
    assert err(r, "GEODIST", "s", "a", "b", "bad") == UNIT
    # Antipodes and the same meridian.
    r.execute_command("GEOADD", "w", "0", "0", "a", "180", "0", "b", "0", "60", "c")
    assert r.execute_command("GEODIST", "w", "a", "b", "km") == "20020.7336"
    assert r.execute_command("GEODIST", "w", "a", "c") == "6673577.7737"


# ------------------------------------------------------------------------------ searches

def test_georadius_and_bymember_replies(r):
    sicily(r)
    assert r.execute_command("GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST") == \
        [["Palermo", "190.4424"], ["Catania", "56.4413"]]
    assert r.execute_command("GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHCOORD") == \
        [["Palermo", PALERMO_XY], ["Catania", CATANIA_XY]]
    assert r.execute_command("GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "WITHDIST",
                             "WITHCOORD", "withhash", "asc") == \
        [["Catania", "56.4413", int(CATANIA), CATANIA_XY],
         ["Palermo", "190.4424", int(PALERMO), PALERMO_XY]]
    assert r.execute_command("GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km", "WITHDIST",
                             "WITHHASH") == \
        [["Palermo", "0.0000", int(PALERMO)], ["edge1", "91.4007", 3479273021651468],
         ["Catania", "166.2742", int(CATANIA)]]
    assert r.execute_command("GEORADIUSBYMEMBER_RO", "Sicily", "Palermo", "100", "mi",
                             "DESC") == ["edge1", "Palermo"]
    assert r.execute_command("GEORADIUS", "Sicily", "15", "37", "1000", "km", "ANY",
                             "COUNT", "1") == ["Palermo"]
    assert r.execute_command("GEORADIUS", "Sicily", "15", "37", "1000", "km", "COUNT", "3") == \
        ["Catania", "Palermo", "edge2"]
    assert r.execute_command("GEORADIUS", "Sicily", "15", "37", "1", "km") == []
    assert r.execute_command("GEORADIUS", "nokey", "15", "37", "1", "km") == []


def test_geosearch_replies(r):
    sicily(r)
    q = ["GEOSEARCH", "Sicily"]
    assert r.execute_command(*q, "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC") == \
        ["Catania", "Palermo"]
    assert r.execute_command(*q, "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "ASC",
                             "WITHCOORD", "WITHDIST") == \
        [["Catania", "56.4413", CATANIA_XY], ["Palermo", "190.4424", PALERMO_XY],
         ["edge2", "279.7403", EDGE2_XY], ["edge1", "279.7405", EDGE1_XY]]
    assert r.execute_command(*q, "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "DESC",
                             "COUNT", "2") == ["edge1", "edge2"]
    assert r.execute_command(*q, "FROMMEMBER", "Palermo", "BYBOX", "500", "300", "mi", "DESC",
                             "WITHHASH") == \
        [["edge2", 3481342659049484], ["Catania", int(CATANIA)],
         ["edge1", 3479273021651468], ["Palermo", int(PALERMO)]]
    assert r.execute_command(*q, "FROMMEMBER", "Palermo", "BYRADIUS", "100000", "ft") == \
        ["Palermo"]
    assert r.execute_command(*q, "FROMMEMBER", "Palermo", "BYRADIUS", "0", "m", "WITHDIST") == \
        [["Palermo", "0.0000"]]
    assert r.execute_command(*q, "FROMLONLAT", "15", "37", "BYRADIUS", "1000", "km", "COUNT",
                             "1", "ANY") == ["Palermo"]
    assert r.execute_command(*q, "FROMLONLAT", "15", "37", "BYRADIUS", "1000", "km", "COUNT",
                             "3") == ["Catania", "Palermo", "edge2"]
    assert r.execute_command(*q, "FROMLONLAT", "15", "37", "BYRADIUS", "20000", "km", "ASC") == \
        ["Catania", "Palermo", "edge2", "edge1"]
    assert r.execute_command(*q, "FROMLONLAT", "15", "37", "BYBOX", "0", "0", "km") == []
    assert r.execute_command(*q, "FROMLONLAT", "0", "0", "BYRADIUS", "0", "m") == []
    # Options in any order and any case.
    assert r.execute_command(*q, "withdist", "count", "2", "byradius", "300", "KM", "desc",
                             "frommember", "Catania") == \
        [["edge1", "248.8609"], ["edge2", "236.5292"]]
    # A missing source: empty, after the arguments were checked.
    assert r.execute_command("GEOSEARCH", "nokey", "FROMMEMBER", "x", "BYRADIUS", "1", "km") == []


def test_search_near_the_dateline_and_poles(r):
    pts = []
    for i, (lon, lat) in enumerate([(179.9999, 1), (-179.9999, 1.5), (180, 0.5), (-180, 2),
                                    (179.5, -0.5), (-179.5, 0.2), (0, 85.05112878),
                                    (90, 85), (-90, 84.9), (180, 85.05112878),
                                    (0, -85.05112878), (120, -85)]):
        pts += [repr(lon), repr(lat), f"p{i}"]
    r.execute_command("GEOADD", "g", *pts)
    for cmd in (["GEORADIUS_RO", "g", "180", "1", "200", "km", "ASC", "WITHDIST"],
                ["GEORADIUS_RO", "g", "-180", "1", "200", "km", "ASC", "WITHDIST"],
                ["GEORADIUS_RO", "g", "180", "85.05112878", "500", "km", "ASC", "WITHDIST"],
                ["GEOSEARCH", "g", "FROMLONLAT", "0", "-85.05112878", "BYRADIUS", "1000", "km",
                 "ASC", "WITHDIST"],
                ["GEOSEARCH", "g", "FROMMEMBER", "p2", "BYBOX", "300", "300", "km", "ASC",
                 "WITHHASH"],
                ["GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "20000", "km", "DESC"]):
        assert r.execute_command(*cmd) == EDGE_REPLIES[" ".join(cmd)], cmd


EDGE_REPLIES = {  # Redis's answers, quirks included (cells of points exactly on 180 / the limit)
    "GEORADIUS_RO g 180 1 200 km ASC WITHDIST":
        [["p0", "0.0110"], ["p2", "55.6131"], ["p4", "175.8635"]],
    "GEORADIUS_RO g -180 1 200 km ASC WITHDIST":
        [["p0", "0.0110"], ["p1", "55.6133"], ["p5", "104.9287"], ["p3", "111.2263"],
         ["p4", "175.8635"]],
    "GEORADIUS_RO g 180 85.05112878 500 km ASC WITHDIST":
        [["p9", "0.0000"]],
    "GEOSEARCH g FROMLONLAT 0 -85.05112878 BYRADIUS 1000 km ASC WITHDIST":
        [["p10", "0.0001"], ["p11", "958.0257"]],
    "GEOSEARCH g FROMMEMBER p2 BYBOX 300 300 km ASC WITHHASH":
        [["p2", 10133120636698704], ["p0", 4128385558882786], ["p4", 3377668973903239]],
    "GEOSEARCH g FROMLONLAT 0 0 BYRADIUS 20000 km DESC":
        ["p5", "p4", "p0", "p1", "p3", "p11", "p7", "p8", "p10"],
}


def test_search_errors(r):
    sicily(r)
    r.execute_command("SET", "s", "x")
    ll = ["FROMLONLAT", "15", "37"]
    cases = [
        (["GEOSEARCH", "Sicily", *ll, "BYRADIUS", "1", "km", "STORE", "x"], SYNTAX),
        (["GEOSEARCH", "Sicily", *ll, "BYRADIUS", "1", "km", "STOREDIST"], SYNTAX),
        (["GEOSEARCH", "Sicily", "FROMMEMBER", "nope", "BYRADIUS", "1", "km"], NO_MEMBER),
        (["GEOSEARCH", "nokey", "FROMMEMBER", "nope", "BYRADIUS", "-1", "km"],
         "radius cannot be negative"),
        (["GEOSEARCH", "nokey", "FROMMEMBER", "nope", "BYRADIUS", "1", "kk"], UNIT),
        (["GEOSEARCH", "Sicily", *ll, "BYRADIUS", "abc", "km"], "need numeric radius"),
        (["GEOSEARCH", "Sicily", *ll, "BYBOX", "abc", "1", "km"], "need numeric width"),
        (["GEOSEARCH", "Sicily", *ll, "BYBOX", "1", "x", "km"], "need numeric height"),
        (["GEOSEARCH", "Sicily", *ll, "BYBOX", "-1", "1", "km"],
         "height or width cannot be negative"),
        (["GEOSEARCH", "Sicily", *ll, "BYBOX", "1", "1", "kmm"], UNIT),
        (["GEOSEARCH", "Sicily", *ll, "BYBOX", "1", "1", "km", "BYRADIUS", "1", "km"], SYNTAX),
        (["GEOSEARCH", "Sicily", *ll, "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km"], SYNTAX),
        (["GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", *ll, "BYRADIUS", "1", "km"], SYNTAX),
        (["GEOSEARCH", "Sicily", "FROMLONLAT", "1", "100", "BYRADIUS", "1", "km"], INVALID_PAIR),
        (["GEOSEARCH", "Sicily", *ll, "BYRADIUS", "1", "km", "COUNT", "0"], "COUNT must be > 0"),
        (["GEOSEARCH", "Sicily", *ll, "BYRADIUS", "1", "km", "COUNT", "-1"],
         "COUNT must be > 0"),
        (["GEOSEARCH", "Sicily", *ll, "BYRADIUS", "1", "km", "COUNT", "x"], NOT_INT),
        (["GEOSEARCH", "Sicily", *ll, "BYRADIUS", "1", "km", "ANY"],
         "the ANY argument requires COUNT argument"),
        (["GEOSEARCH", "Sicily", *ll, "BYRADIUS", "1", "km", "COUNT"], SYNTAX),
        (["GEOSEARCH", "Sicily", *ll, "BYRADIUS", "1", "km", "bogus"], SYNTAX),
        (["GEOSEARCH", "Sicily", *ll, "COUNT", "1", "ASC"],
         "exactly one of BYRADIUS and BYBOX can be specified for GEOSEARCH"),
        (["geoSearch", "Sicily", "BYRADIUS", "1", "km", "ASC", "DESC"],
         "exactly one of FROMMEMBER or FROMLONLAT can be specified for geoSearch"),
        (["GEOSEARCH", "s", *ll, "BYRADIUS", "1", "km"], WRONGTYPE),
        (["GEOSEARCH", "s", "bogus", "x", "y", "z", "w"], WRONGTYPE),
        (["GEOSEARCHSTORE", "d", "Sicily", *ll, "BYRADIUS", "1", "km", "WITHDIST"],
         "GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"),
        (["GEOSEARCHSTORE", "d", "Sicily", *ll, "BYRADIUS", "1", "km", "STORE", "x"], SYNTAX),
        (["GEOSEARCHSTORE", "d", "s", *ll, "BYRADIUS", "1", "km"], WRONGTYPE),
        (["GEORADIUS", "Sicily", "15", "37", "1", "km", "STORE", "d", "WITHHASH"],
         "STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD "
         "options"),
        (["GEORADIUS", "Sicily", "15", "37", "1", "km", "STORE"], SYNTAX),
        (["GEORADIUS_RO", "Sicily", "15", "37", "1", "km", "STORE", "d"], SYNTAX),
        (["GEORADIUSBYMEMBER_RO", "Sicily", "Palermo", "1", "km", "STOREDIST", "d"], SYNTAX),
        (["GEORADIUS", "Sicily", "15", "37", "-1", "km"], "radius cannot be negative"),
        (["GEORADIUS", "Sicily", "15", "37", "x", "km"], "need numeric radius"),
        (["GEORADIUS", "Sicily", "15", "37", "1", "kx"], UNIT),
        (["GEORADIUS", "Sicily", "1", "100", "1", "kx"], INVALID_PAIR),
        (["GEORADIUS", "Sicily", "15", "37", "1", "km", "FROMLONLAT", "1", "2"], SYNTAX),
        (["GEORADIUSBYMEMBER", "Sicily", "nope", "1", "km"], NO_MEMBER),
        (["GEORADIUSBYMEMBER", "s", "nope", "1", "km"], WRONGTYPE),
        (["GEOSEARCH", "Sicily", *ll], "wrong number of arguments for 'geosearch' command"),
        (["GEOSEARCHSTORE", "d", "Sicily", *ll, "BYBOX"],
         "wrong number of arguments for 'geosearchstore' command"),
        (["GEOSEARCHSTORE", "d", "Sicily", *ll, "BYBOX", "1"], SYNTAX),
    ]
    for args, msg in cases:
        assert err(r, *args) == msg, args
    assert r.execute_command("EXISTS", "d") == 0
    # Without a source GEORADIUSBYMEMBER does not look at the radius, only the options.
    assert r.execute_command("GEORADIUSBYMEMBER", "nokey", "m", "x", "kx") == []
    assert r.execute_command("GEORADIUSBYMEMBER", "nokey", "m", "x", "kx", "STORE", "d") == 0


# ------------------------------------------------------------------------------ stores

@pytest.mark.parametrize("src,dst", [("{a}src", "{b}dst"), ("geo:src", "geo:dst"),
                                     ("same", "same")])
def test_store_forms_across_shards(r, src, dst):
    def reset():
        if src == dst:  # each store replaced the source: start again
            r.execute_command("DEL", src)
            sicily(r, src)

    sicily(r, src)
    if src != dst:
        r.execute_command("SET", dst, "old", "EX", 100)  # any type is replaced, TTL goes
    ll = ["FROMLONLAT", "15", "37"]
    assert r.execute_command("GEOSEARCHSTORE", dst, src, *ll, "BYBOX", "400", "400", "km",
                             "ASC", "COUNT", "3", "STOREDIST") == 3
    assert zall(r, dst) == ["Catania", "56.441257870158204", "Palermo", "190.44242984775784",
                            "edge2", "279.7403417843143"]
    assert r.execute_command("TTL", dst) == -1
    assert r.execute_command("OBJECT", "ENCODING", dst) == "listpack"
    reset()
    assert r.execute_command("GEORADIUS", src, "15", "37", "200", "km", "STORE", dst) == 2
    assert zall(r, dst) == ["Palermo", PALERMO, "Catania", CATANIA]
    reset()
    assert r.execute_command("GEORADIUS", src, "15", "37", "200", "mi", "STOREDIST", dst) == 4
    assert zall(r, dst) == ["Catania", "35.071058862737644", "Palermo", "118.33573380874013",
                            "edge2", "173.82302172587168", "edge1", "173.82309029517339"]
    reset()
    assert r.execute_command("GEORADIUSBYMEMBER", src, "Palermo", "100", "km", "STORE", dst,
                             "DESC", "COUNT", "1") == 1
    assert zall(r, dst) == ["edge1", "3479273021651468"]
    reset()
    assert r.execute_command("GEOSEARCHSTORE", dst, src, *ll, "BYRADIUS", "200", "km") == 2
    assert zall(r, dst) == ["Palermo", PALERMO, "Catania", CATANIA]
    # Nothing found: the destination is deleted.
    assert r.execute_command("GEORADIUS", src, "0", "0", "1", "km", "STORE", dst) == 0
    assert r.execute_command("EXISTS", dst) == 0
    if src != dst:
        r.execute_command("SET", dst, "x")
        assert r.execute_command("GEOSEARCHSTORE", dst, "{a}nokey", *ll, "BYRADIUS", "1",
                                 "km") == 0
        assert r.execute_command("EXISTS", dst) == 0
        r.execute_command("SET", dst, "x")
        assert r.execute_command("GEORADIUSBYMEMBER", "{a}nokey", "m", "1", "km", "STOREDIST",
                                 dst) == 0
        assert r.execute_command("EXISTS", dst) == 0


def test_store_errors_leave_destination(r):
    sicily(r, "{a}src")
    r.execute_command("SET", "{b}dst", "keep")
    r.execute_command("SET", "{c}str", "x")
    ll = ["FROMLONLAT", "15", "37"]
    assert err(r, "GEOSEARCHSTORE", "{b}dst", "{c}str", *ll, "BYRADIUS", "1", "km") == WRONGTYPE
    assert err(r, "GEOSEARCHSTORE", "{b}dst", "{a}src", *ll, "BYRADIUS", "1", "kmx") == UNIT
    assert err(r, "GEORADIUS", "{a}src", "15", "37", "1", "km", "STORE", "{b}dst",
               "COUNT", "0") == "COUNT must be > 0"
    assert r.execute_command("GET", "{b}dst") == "keep"


def test_store_many_members_encoding_and_last_store_wins(r):
    pts = []
    for i in range(200):
        pts += [repr(10 + i * 0.001), repr(20 + (i % 7) * 0.001), f"m{i:03d}"]
    r.execute_command("GEOADD", "{a}big", *pts)
    assert r.execute_command("OBJECT", "ENCODING", "{a}big") == "skiplist"
    assert r.execute_command("GEORADIUS", "{a}big", "10.1", "20", "50", "km", "STORE",
                             "{b}one", "STOREDIST", "{c}two") == 200
    assert r.execute_command("EXISTS", "{b}one") == 0
    assert r.execute_command("ZCARD", "{c}two") == 200
    assert r.execute_command("OBJECT", "ENCODING", "{c}two") == "skiplist"
    assert r.execute_command("GEOSEARCHSTORE", "{b}one", "{a}big", "FROMLONLAT", "10.1", "20",
                             "BYBOX", "50", "50", "km", "COUNT", "5") == 5
    assert r.execute_command("OBJECT", "ENCODING", "{b}one") == "listpack"
    assert r.execute_command("ZRANGE", "{b}one", 0, -1) == ["m098", "m099", "m100", "m101",
                                                            "m102"]


def test_transactions(server, r):
    sicily(r, "{a}src")
    raw = server.raw()
    assert raw.pipeline([["MULTI"], ["GEOADD", "{a}src", "1", "1", "x"],
                         ["GEOSEARCHSTORE", "{b}dst", "{a}src", "FROMLONLAT", "1", "1",
                          "BYRADIUS", "1", "km"],
                         ["GEODIST", "{a}src", "x", "Palermo", "km"], ["EXEC"]])[-1] == \
        [1, 1, b"4317.1555"]
    raw.close()
    other = server.client()
    other.response_callbacks.clear()
    r.execute_command("WATCH", "{b}dst")
    other.execute_command("GEORADIUS", "{a}src", "15", "37", "200", "km", "STORE", "{b}dst")
    other.close()
    r.execute_command("MULTI")
    r.execute_command("GET", "x")
    assert r.execute_command("EXEC") is None


# ------------------------------------------------------------------------------ protocol, metadata

def test_resp3_replies(server):
    raw = server.raw()
    raw.cmd("FLUSHALL")
    raw.cmd("GEOADD", "Sicily", "13.361389", "38.115556", "Palermo")
    raw.cmd("HELLO", 3)
    # Coordinates are RESP3 doubles, missing members null; distances stay bulk strings.
    assert raw.cmd("GEOPOS", "Sicily", "Palermo", "x") == \
        [[13.36138933897018433, 38.11555639549629859], None]
    assert raw.cmd("GEOPOS", "nokey", "x") == [None]
    assert raw.cmd("GEODIST", "Sicily", "Palermo", "Palermo") == b"0.0000"
    assert raw.cmd("GEODIST", "Sicily", "Palermo", "x") is None
    assert raw.cmd("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km",
                   "WITHCOORD", "WITHDIST", "WITHHASH") == \
        [[b"Palermo", b"190.4424", int(PALERMO), [13.36138933897018433, 38.11555639549629859]]]
    assert raw.cmd("GEOHASH", "Sicily", "Palermo", "x") == [b"sqc8b49rny0", None]
    raw.close()


def test_command_info_and_keys(r):
    info = {c: r.execute_command("COMMAND", "INFO", c)[0][:6] for c in
            ["geoadd", "geopos", "geodist", "geohash", "geosearch", "geosearchstore",
             "georadius", "georadiusbymember", "georadius_ro", "georadiusbymember_ro"]}
    assert info == {
        "geoadd": ["geoadd", -5, ["write", "denyoom"], 1, 1, 1],
        "geopos": ["geopos", -2, ["readonly"], 1, 1, 1],
        "geodist": ["geodist", -4, ["readonly"], 1, 1, 1],
        "geohash": ["geohash", -2, ["readonly"], 1, 1, 1],
        "geosearch": ["geosearch", -7, ["readonly"], 1, 1, 1],
        "geosearchstore": ["geosearchstore", -8, ["write", "denyoom"], 1, 2, 1],
        "georadius": ["georadius", -6, ["write", "denyoom", "movablekeys"], 1, 1, 1],
        "georadiusbymember": ["georadiusbymember", -5, ["write", "denyoom", "movablekeys"],
                              1, 1, 1],
        "georadius_ro": ["georadius_ro", -6, ["readonly"], 1, 1, 1],
        "georadiusbymember_ro": ["georadiusbymember_ro", -5, ["readonly"], 1, 1, 1],
    }
    assert sorted(r.execute_command("COMMAND", "INFO", "geosearch")[0][6]) == \
        ["@geo", "@read", "@slow"]
    assert sorted(r.execute_command("COMMAND", "INFO", "geoadd")[0][6]) == \
        ["@geo", "@slow", "@write"]
    docs = r.execute_command("COMMAND", "DOCS", "geosearch")[1]
    docs = dict(zip(docs[::2], docs[1::2]))
    assert (docs["summary"], docs["since"], docs["group"]) == \
        ("Query a sorted set representing a geospatial index to fetch members inside an area "
         "of a box or a circle.", "6.2.0", "geo")
    keys = lambda *a: r.execute_command("COMMAND", "GETKEYS", *a)  # noqa: E731
    assert keys("GEORADIUS", "k", "1", "2", "3", "km", "STORE", "a", "COUNT", "3",
                "STOREDIST", "b") == ["k", "a", "b"]
    assert keys("GEORADIUS", "k", "1", "2", "3", "km") == ["k"]
    assert keys("GEORADIUSBYMEMBER", "k", "m", "3", "km", "STORE", "a") == ["k", "a"]
    assert keys("GEOSEARCHSTORE", "a", "b", "FROMLONLAT", "1", "2", "BYRADIUS", "1",
                "km") == ["a", "b"]


# ------------------------------------------------------------------------------ differential

@pytest.fixture(scope="module")
def ref():
    """A redis-server to compare with."""
    s = Server(kind="redis")
    yield s
    s.stop()


def random_workload(seed, n):
    """n random geo commands (distinct random coordinates, so no two distances tie)."""
    rng = random.Random(seed)
    units = ["m", "km", "ft", "mi", "KM"]

    def lon():
        return repr(rng.choice([rng.uniform(-180, 180), rng.uniform(-2, 2),
                                rng.uniform(178, 180), rng.uniform(-180, -178)]))

    def lat():
        return repr(rng.choice([rng.uniform(-85.05, 85.05), rng.uniform(-2, 2),
                                rng.uniform(80, 85.05), rng.uniform(-85.05, -80)]))

    def member():
        return f"m{rng.randint(0, 150)}"

    def centre(args, by_member):
        if by_member:
            args.append(member())
        else:
            args += [lon(), lat()]

    def radius():
        return repr(rng.choice([0, 1, 10, 100, 1000, 5000, 20000, rng.uniform(0, 3000)]))

    def options(args, withs):
        if rng.random() < 0.5:
            args.append(rng.choice(["ASC", "DESC"]))
        if rng.random() < 0.4:
            args += ["COUNT", str(rng.randint(1, 20))]
            if rng.random() < 0.3:
                args.append("ANY")
        for w in ["WITHDIST", "WITHHASH", "WITHCOORD"]:
            if withs and rng.random() < 0.4:
                args.append(w)

    out = []
    for _ in range(n):
        key = rng.choice(["{g}1", "{g}2", "g3"])
        op = rng.random()
        if op < 0.3:
            args = ["GEOADD", key]
            if rng.random() < 0.2:
                args.append(rng.choice(["NX", "XX", "CH"]))
            for _ in range(rng.randint(1, 5)):
                args += [lon(), lat(), member()]
        elif op < 0.5:
            store = rng.random() < 0.3
            args = ["GEOSEARCHSTORE", rng.choice(["{d}1", "d2"]), key] if store \
                else ["GEOSEARCH", key]
            if rng.random() < 0.5:
                args += ["FROMMEMBER", member()]
            else:
                args += ["FROMLONLAT", lon(), lat()]
            r = radius()
            if rng.random() < 0.5:
                args += ["BYRADIUS", r, rng.choice(units)]
            else:
                args += ["BYBOX", r, rng.choice([r, radius()]), rng.choice(units)]
            options(args, not store)
            if store and rng.random() < 0.3:
                args.append("STOREDIST")
        elif op < 0.7:
            cmd = rng.choice(["GEORADIUS", "GEORADIUS_RO", "GEORADIUSBYMEMBER",
                              "GEORADIUSBYMEMBER_RO"])
            args = [cmd, key]
            centre(args, "MEMBER" in cmd)
            args += [radius(), rng.choice(units)]
            store = "_RO" not in cmd and rng.random() < 0.3
            options(args, not store)
            if store:
                args += [rng.choice(["STORE", "STOREDIST"]), rng.choice(["{d}1", "d2"])]
        elif op < 0.8:
            args = ["GEOPOS", key] + [member() for _ in range(3)]
        elif op < 0.9:
            args = ["GEODIST", key, member(), member(), rng.choice(units)]
        elif op < 0.95:
            args = ["GEOHASH", key] + [member() for _ in range(3)]
        else:
            args = ["ZRANGE", rng.choice(["{d}1", "d2"]), 0, -1, "WITHSCORES"]
        out.append(args)
    return out


def run(c, args):
    try:
        return c.execute_command(*args)
    except redis.ResponseError as e:
        return "error: " + str(e)


def test_random_workload_matches_redis(server, ref):
    a, b = server.client(), ref.client()
    for c in (a, b):
        c.flushall()
        c.response_callbacks.clear()
    for i, args in enumerate(random_workload(20261124, 2500)):
        assert run(a, args) == run(b, args), (i, args)
    for key in ["{g}1", "{g}2", "g3", "{d}1", "d2"]:
        assert zall(a, key) == zall(b, key)
    a.close()
    b.close()
