"""Redis Cluster's protocol as one node (`--cluster_mode=emulated`, as Dragonfly; `cluster-enabled
yes` alike): cluster clients (redis-py's RedisCluster here) discover one node owning every
slot and route every key to it. Replies are shaped as a real one-node Redis cluster's."""
import pytest
import redis
from redis.cluster import RedisCluster

from conftest import SERVER_KIND, Server

pytestmark = pytest.mark.skipif(SERVER_KIND == "redis",
                                reason="a redis-server cluster node needs cluster meet/addslots setup")


@pytest.fixture(scope="module")
def node():
    s = Server(args=["--cluster_mode=emulated"])
    yield s
    s.stop()


def test_cluster_commands(node):
    c = node.client()
    info = c.execute_command("CLUSTER", "INFO")
    assert "cluster_state:ok" in info and "cluster_slots_assigned:16384" in info
    slots = c.execute_command("CLUSTER", "SLOTS")
    assert slots[0][0] == 0 and slots[0][1] == 16383 and slots[0][2][1] == node.port
    myid = c.execute_command("CLUSTER", "MYID")
    assert len(myid) == 40
    nodes = c.execute_command("CLUSTER", "NODES")
    assert myid in str(nodes) and "myself,master" in str(nodes) and "0-16383" in str(nodes)
    # the slots of Redis Cluster's own examples
    assert c.execute_command("CLUSTER", "KEYSLOT", "somekey") == 11058
    assert c.execute_command("CLUSTER", "KEYSLOT", "foo{hash_tag}") == 2515
    assert c.execute_command("CLUSTER", "KEYSLOT", "bar{hash_tag}") == 2515
    assert c.execute_command("READONLY") in (True, "OK")
    assert c.info("cluster")["cluster_enabled"] == 1


def test_cluster_client_routes_everything_here(node):
    rc = RedisCluster(host="127.0.0.1", port=node.port, decode_responses=True)
    for i in range(200):
        rc.set(f"key:{i}", i)
    assert [rc.get(f"key:{i}") for i in range(200)] == [str(i) for i in range(200)]
    assert rc.mget_nonatomic([f"key:{i}" for i in range(0, 200, 9)]) == [str(i) for i in range(0, 200, 9)]
    p = rc.pipeline()
    for i in range(50):
        p.incr(f"ctr:{i % 5}")
    assert p.execute()[-1] == 10
    rc.close()


def test_cluster_commands_refused_without_cluster_mode(r):
    with pytest.raises(redis.exceptions.ResponseError, match="cluster support disabled"):
        r.execute_command("CLUSTER", "INFO")
