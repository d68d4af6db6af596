"""The official OneFS SDK (isilon-sdk, models of 9.5.0) against the simulator.

The SDK deserialises every answer into its generated models, whose setters
refuse a missing required field or a value outside an enum.  Reading and
writing through it therefore checks our payloads against the OneFS API spec.
The SDK is a test-only dependency: the collection never imports it.
"""

import pytest

from onefs_mock import framework
from onefs_mock.seed import load_scenario
from onefs_mock.testing import start_mock

sdk = pytest.importorskip("isilon_sdk.v9_5_0")

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def mock():
    # The SDK always speaks HTTPS (it rewrites http:// to https://) and logs in with a session.
    server = start_mock(clusters=("source", "target"), seed="demo", tls=True, time_scale=1000)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def clean(mock):
    mock.control.reset()


def client(mock, cluster="source"):
    conf = sdk.Configuration()
    conf.host = mock.url(cluster)
    conf.username = "admin"
    conf.password = "admin"
    conf.verify_ssl = False           # the mock's own CA; certificate checks are tested elsewhere
    return sdk.ApiClient(conf)


def needs_synciq():
    templates = {route.template for route in framework.routes()}
    if "/platform/{v}/sync/policies" not in templates:
        pytest.skip("the SyncIQ area of the mock is not registered yet")


# --- network -------------------------------------------------------------------------------------

def test_pools_through_the_sdk(mock):
    net = sdk.NetworkApi(client(mock))
    pools = net.get_network_pools()
    assert isinstance(pools, sdk.NetworkPools)
    assert {p.id for p in pools.pools} == {"groupnet0.subnet0.pool0", "groupnet0.subnet0.finance",
                                           "groupnet0.subnet0.eng"}
    groupnets = sdk.NetworkGroupnetsApi(client(mock))
    pool = groupnets.get_subnets_subnet_pool("finance", "groupnet0", "subnet0").pools[0]
    assert isinstance(pool, sdk.SubnetsSubnetPoolsPool)
    assert pool.sc_dns_zone == "finance.prod.example.com" and pool.sc_dns_zone_aliases == ["fin.prod.example.com"]
    groupnets.update_subnets_subnet_pool(sdk.SubnetsSubnetPool(sc_dns_zone_aliases=["eng2.prod.example.com"]),
                                         "eng", "groupnet0", "subnet0")
    created = groupnets.create_subnets_subnet_pool(
        sdk.SubnetsSubnetPoolCreateParams(name="extra", access_zone="eng", sc_dns_zone="x.example.com"),
        "groupnet0", "subnet0")
    assert created.id == "groupnet0.subnet0.extra"
    listed = groupnets.list_subnets_subnet_pools("groupnet0", "subnet0")
    assert isinstance(listed, sdk.SubnetsSubnetPoolsExtended) and listed.total == 4
    eng = [p for p in listed.pools if p.name == "eng"][0]
    assert eng.sc_dns_zone_aliases == ["eng2.prod.example.com"]
    groupnet = net.get_network_groupnet("groupnet0").groupnets[0]
    assert groupnet.subnets == ["subnet0"]
    subnets = sdk.NetworkApi(client(mock)).get_network_subnets()
    assert subnets.subnets[0].id == "groupnet0.subnet0"


# --- ADS -----------------------------------------------------------------------------------------

def test_ads_provider_and_spns_through_the_sdk(mock):
    auth = sdk.AuthApi(client(mock, "target"))
    listed = auth.list_providers_ads()
    assert [a.id for a in listed.ads] == ["AD.EXAMPLE.COM"]
    ads = auth.get_providers_ads_by_id("AD.EXAMPLE.COM", check_duplicates=True).ads[0]
    assert isinstance(ads, sdk.ProvidersAdsAdsItem)
    assert ads.machine_account == "DR-PS$" and ads.status == "online" and ads.dup_spns == []
    wanted = ads.spns + ["HOST/fin", "HOST/fin.prod.example.com"]
    auth.update_providers_ads_by_id(sdk.ProvidersAdsIdParams(spns=wanted, user="svc-join", password="pw"),
                                    "AD.EXAMPLE.COM")
    ads = auth.get_providers_ads_by_id("AD.EXAMPLE.COM", check_duplicates=True).ads[0]
    assert ads.spns == wanted
    assert ads.dup_spns == ["HOST/fin", "HOST/fin.prod.example.com"]         # the source still holds them
    with pytest.raises(sdk.rest.ApiException) as refused:
        auth.update_providers_ads_by_id(sdk.ProvidersAdsIdParams(spns=["HOST/dr-ps"]), "AD.EXAMPLE.COM")
    assert refused.value.status == 400


# --- quotas --------------------------------------------------------------------------------------

def test_quotas_through_the_sdk(mock):
    quota = sdk.QuotaApi(client(mock, "target"))
    ids = []
    for index in range(3):
        created = quota.create_quota_quota(sdk.QuotaQuotaCreateParams(
            path="/ifs/data/eng/q%d" % index, type="directory", include_snapshots=False,
            thresholds=sdk.QuotaQuotaThresholds(hard=2 ** 30, soft=2 ** 29, soft_grace=86400)))
        ids.append(created.id)
    assert all(len(ident) == 32 for ident in ids)
    one = quota.get_quota_quota(ids[0]).quotas[0]
    assert isinstance(one, sdk.QuotaQuotaExtended)
    assert one.thresholds.hard == 2 ** 30 and one.usage.fslogical == 0 and one.ready is True
    first = quota.list_quota_quotas(limit=2)
    assert isinstance(first, sdk.QuotaQuotasExtended) and len(first.quotas) == 2 and first.resume
    rest = quota.list_quota_quotas(resume=first.resume)
    assert [q.id for q in first.quotas + rest.quotas] == ids and rest.resume is None
    quota.update_quota_quota(sdk.QuotaQuota(thresholds=sdk.QuotaQuotaThresholds(hard=2 ** 31)), ids[1])
    assert quota.get_quota_quota(ids[1]).quotas[0].thresholds.hard == 2 ** 31
    with pytest.raises(sdk.rest.ApiException) as duplicate:
        quota.create_quota_quota(sdk.QuotaQuotaCreateParams(path="/ifs/data/eng/q0", type="directory",
                                                            include_snapshots=False))
    assert duplicate.value.status == 409
    quota.delete_quota_quota(ids[2])
    with pytest.raises(sdk.rest.ApiException) as gone:
        quota.get_quota_quota(ids[2])
    assert gone.value.status == 404
    summary = quota.get_quota_quotas_summary().summary
    assert (summary.count, summary.directory_quotas_count) == (2, 2)
    seeded = sdk.QuotaApi(client(mock)).list_quota_quotas()
    user = [q for q in seeded.quotas if q.type == "user"][0]
    assert user.persona.id == "UID:2001"


# --- SMB and NFS ---------------------------------------------------------------------------------

def test_smb_shares_through_the_sdk(mock):
    protocols = sdk.ProtocolsApi(client(mock, "target"))
    everyone = sdk.AuthAccessAccessItemFileGroup(id="SID:S-1-1-0", name="Everyone", type="wellknown")
    created = protocols.create_smb_share(sdk.SmbShareCreateParams(
        name="reports", path="/ifs/data/finance/reports",
        permissions=[sdk.SmbSharePermission(permission="read", permission_type="allow", trustee=everyone)]),
        zone="finance")
    assert created.id == "reports"
    shares = protocols.list_smb_shares(zone="finance")
    assert isinstance(shares, sdk.SmbSharesExtended) and shares.digest
    assert [s.name for s in shares.shares] == ["ap", "reports"]
    share = protocols.get_smb_share("reports", zone="finance").shares[0]
    assert share.permissions[0].trustee.id == "SID:S-1-1-0" and share.zid == 2
    protocols.update_smb_share(sdk.SmbShare(permissions=[sdk.SmbSharePermission(
        permission="full", permission_type="deny", trustee=everyone)]), "reports", zone="finance")
    assert protocols.get_smb_share("reports", zone="finance").shares[0].permissions[0].permission_type == "deny"


def test_nfs_exports_and_aliases_through_the_sdk(mock):
    protocols = sdk.ProtocolsApi(client(mock, "target"))
    created = protocols.create_nfs_export(sdk.NfsExportCreateParams(
        paths=["/ifs/data/eng/builds"], clients=["10.10.5.0/24"], read_only=True), zone="eng")
    export = protocols.get_nfs_export(int(created.id), zone="eng").exports[0]
    assert export.paths == ["/ifs/data/eng/builds"] and export.read_only is True and export.zone == "eng"
    listed = protocols.list_nfs_exports(zone="eng")
    assert isinstance(listed, sdk.NfsExportsExtended) and listed.total == 2
    alias = protocols.create_nfs_alias(sdk.NfsAliasCreateParams(name="/builds", path="/ifs/data/eng/builds"),
                                       zone="eng")
    assert alias.id == "/builds"
    fetched = protocols.get_nfs_alias("/builds", zone="eng").aliases[0]
    assert fetched.path == "/ifs/data/eng/builds"
    assert [a.name for a in protocols.list_nfs_aliases(zone="eng").aliases] == ["/src", "/builds"]


def test_an_unseeded_cluster_deserialises_too():
    # Defaults matter as much as seeded data: a cluster started without a scenario.
    server = start_mock(clusters=("solo",), seed=None, tls=True)
    try:
        api = client(server, "solo")
        pools = sdk.NetworkApi(api).get_network_pools().pools
        assert [p.id for p in pools] == ["groupnet0.subnet0.pool0"]
        assert sdk.NetworkGroupnetsApi(api).list_groupnet_subnets("groupnet0").subnets[0].name == "subnet0"
        assert sdk.NetworkApi(api).list_network_groupnets().groupnets[0].name == "groupnet0"
        assert sdk.AuthApi(api).list_providers_ads().ads == []
        assert sdk.QuotaApi(api).list_quota_quotas().quotas == []
        assert sdk.ProtocolsApi(api).list_smb_shares().shares == []
        assert sdk.ProtocolsApi(api).list_nfs_exports().exports == []
        assert sdk.ProtocolsApi(api).list_nfs_aliases().aliases == []
        created = sdk.AuthApi(api).create_providers_ads_item(
            sdk.ProvidersAdsItem(name="ad.example.com", user="svc-join", password="pw"))
        ads = sdk.AuthApi(api).get_providers_ads_by_id(created.id).ads[0]
        assert ads.machine_account == "SOLO$" and "HOST/solo" in ads.recommended_spns
    finally:
        server.stop()


# --- SyncIQ (the mock-core area) ------------------------------------------------------------------

def test_policies_jobs_reports_and_target_policies_through_the_sdk(mock):
    needs_synciq()
    sync = sdk.SyncApi(client(mock))
    policies = sync.list_sync_policies()
    assert len(policies.policies) == 10
    policy = sync.get_sync_policy("fin-ap").policies[0]
    assert policy.source_root_path == "/ifs/data/finance/ap" and policy.enabled is True
    created = sync.create_sync_policy(sdk.SyncPolicyCreateParams(
        name="sdk-p", action="sync", source_root_path="/ifs/data/eng/docs", target_host="target",
        target_path="/ifs/data/eng/docs-sdk"))
    assert created.id
    sync.create_sync_job(sdk.SyncJobCreateParams(id="sdk-p"))
    mock.control.wait_idle(timeout=60)
    reports = sync.get_sync_reports(policy_name="sdk-p")
    assert reports.reports and reports.reports[0].state == "finished"
    assert sync.get_sync_policy("sdk-p").policies[0].last_job_state == "finished"

    target = sdk.SyncApi(client(mock, "target"))
    record = target.get_target_policy("sdk-p").policies[0]
    assert record.failover_failback_state == "writes_disabled"
    assert {p.name for p in target.get_target_policies().policies} >= {"fin-ap", "sdk-p"}
    assert target.get_target_reports().reports
    target.create_sync_job(sdk.SyncJobCreateParams(id="sdk-p", action="allow_write"))
    mock.control.wait_idle(timeout=60)
    assert target.get_target_policy("sdk-p").policies[0].failover_failback_state == "writes_enabled"
    assert sync.list_sync_jobs().jobs == []


def test_a_9_12_cluster_through_the_9_12_sdk():
    # Later SDKs require more fields (9.8+: nfs_rroce_only, 9.12: linklayer) and use higher
    # path versions (pools at /platform/21): a 9.12 cluster must satisfy them.
    sdk12 = pytest.importorskip("isilon_sdk.v9_12_0")
    scenario = load_scenario("demo")
    section = scenario["clusters"]["source"]
    section.pop("policies")                      # their target cluster is not started here
    section["onefs_version"] = "9.12.0.0"
    server = start_mock(clusters=("source",), seed={"domains": scenario["domains"], "clusters": {"source": section}},
                        tls=True)
    try:
        conf = sdk12.Configuration()
        conf.host, conf.username, conf.password, conf.verify_ssl = server.url("source"), "admin", "admin", False
        api = sdk12.ApiClient(conf)
        pools = sdk12.NetworkApi(api).get_network_pools().pools
        assert {p.linklayer for p in pools} == {"ethernet"} and len(pools) == 3
        pool = sdk12.NetworkGroupnetsApi(api).get_subnets_subnet_pool("finance", "groupnet0", "subnet0").pools[0]
        assert pool.sc_dns_zone_aliases == ["fin.prod.example.com"]
        assert sdk12.AuthApi(api).get_providers_ads_by_id("AD.EXAMPLE.COM").ads[0].machine_account == "PROD-PS$"
        assert len(sdk12.QuotaApi(api).list_quota_quotas().quotas) == 6
        assert len(sdk12.ProtocolsApi(api).list_smb_shares(zone="finance").shares) == 3
        assert len(sdk12.ProtocolsApi(api).list_nfs_exports(zone="eng").exports) == 2
        assert [a.name for a in sdk12.ProtocolsApi(api).list_nfs_aliases(zone="eng").aliases] == ["/src", "/builds"]
    finally:
        server.stop()
