"""deploy/compose.yaml and its monitoring files, parsed and checked against each other
and against the Helm chart's user (no container runtime needed)."""

import json
import re
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
CINFER = SERVICES["cinfer"]
CINFER_PORT = 8000


def default_of(value):
    """'${VAR:-default}' -> default; a plain value stays as it is."""
    m = re.fullmatch(r"\$\{(\w+):-([^}]*)\}", value)
    return m.group(2) if m else value


def bind_mounts(service):
    """{container path: host path resolved against deploy/} of ./relative bind mounts."""
    out = {}
    for v in service.get("volumes", []):
        src, dst = v.split(":")[:2]
        if src.startswith("./"):
            out[dst] = (DEPLOY / src).resolve()
    return out


def test_cinfer_image_default_and_override():
    assert CINFER["image"] == "${CINFER_IMAGE:-localhost/cinfer:latest}"


def test_cinfer_is_locked_down():
    assert CINFER["read_only"] is True
    chart = yaml.safe_load((DEPLOY / "helm" / "cinfer" / "values.yaml").read_text())
    uid = chart["podSecurityContext"]["runAsUser"]
    assert uid == 10001
    assert CINFER["user"] == f"{uid}:{uid}"
    assert CINFER["cap_drop"] == ["ALL"]
    assert "no-new-privileges" in CINFER["security_opt"]
    assert "privileged" not in CINFER and "cap_add" not in CINFER
    assert [t.split(":")[0] for t in CINFER["tmpfs"]] == ["/tmp"]


def test_cinfer_data_volume_and_environment():
    named = [v for v in CINFER["volumes"] if v.split(":")[1] == "/data"]
    assert len(named) == 1
    name = named[0].split(":")[0]
    assert not name.startswith((".", "/")), "the data should live in a named volume"
    assert name in COMPOSE["volumes"]
    env = CINFER["environment"]
    assert env["CINFER_SERVER__DATA_DIR"] == "/data"
    assert env["CINFER_SERVER__HOST"] == "0.0.0.0"
    assert int(env["CINFER_SERVER__PORT"]) == CINFER_PORT


def test_cinfer_healthcheck_is_readiness():
    hc = CINFER["healthcheck"]
    test = hc["test"]
    assert test[0] == "CMD" and test[1] in ("curl", "wget")
    assert f"http://127.0.0.1:{CINFER_PORT}/health/ready" in test
    if test[1] == "curl":
        assert "-f" in test or any(a.startswith("-") and "f" in a and not a.startswith("--")
                                   for a in test), "curl must fail on HTTP errors (-f)"
    for k in ("interval", "timeout", "start_period"):
        assert re.fullmatch(r"\d+s", hc[k]), (k, hc[k])
    assert hc["retries"] >= 1


def test_healthcheck_tool_is_in_the_image():
    containerfile = DEPLOY / "Containerfile"
    if not containerfile.exists():
        pytest.skip("deploy/Containerfile not written yet")
    tool = CINFER["healthcheck"]["test"][1]
    runtime = containerfile.read_text().split("\nFROM ")[-1]      # the last stage
    commands = re.sub(r"\\\n", " ", runtime).splitlines()       # continuation lines joined
    installs = [c for c in commands if c.startswith("RUN ") and "apt-get install" in c]
    assert any(re.search(rf"\s{tool}(\s|$)", c) for c in installs), \
        f"the compose healthcheck runs {tool}, which the image's last stage does not install"


def test_every_published_port_is_loopback():
    published = []
    for name, svc in SERVICES.items():
        for p in svc.get("ports", []):
            assert isinstance(p, str), f"{name}: use the HOST:PORT:PORT string form"
            m = re.fullmatch(r"([^:]+):(\$\{\w+:-\d+\}|\d+):(\d+)", p)
            assert m, f"{name}: {p} should be HOST:PORT:PORT"
            assert m.group(1) == "127.0.0.1", f"{name} publishes {p} beyond loopback"
            published.append((name, int(m.group(3))))
    assert ("cinfer", CINFER_PORT) in published
    host_port = re.fullmatch(r"127\.0\.0\.1:(.+):\d+", CINFER["ports"][0]).group(1)
    assert default_of(host_port) == "8000"


def test_monitoring_profile():
    assert "profiles" not in CINFER, "the server must start without a profile"
    monitoring = {n for n, s in SERVICES.items() if "monitoring" in s.get("profiles", [])}
    assert monitoring == {"prometheus", "grafana"}
    for n in monitoring:
        assert SERVICES[n]["profiles"] == ["monitoring"]
        assert "no-new-privileges" in SERVICES[n]["security_opt"]
        assert default_of(SERVICES[n]["image"]).startswith("docker.io/")
        assert re.search(r":v?\d+\.\d+\.\d+$", default_of(SERVICES[n]["image"])), "pin a version"
    for name in ("prometheus-data", "grafana-data"):
        assert name in COMPOSE["volumes"]


def test_prometheus_scrapes_cinfer_metrics():
    mounts = bind_mounts(SERVICES["prometheus"])
    cfg_path = mounts["/etc/prometheus/prometheus.yml"]
    assert cfg_path == (DEPLOY / "prometheus" / "prometheus.yml").resolve()
    assert "--config.file=/etc/prometheus/prometheus.yml" in SERVICES["prometheus"]["command"]
    cfg = yaml.safe_load(cfg_path.read_text())
    jobs = [j for j in cfg["scrape_configs"]
            if f"cinfer:{CINFER_PORT}" in [t for sc in j.get("static_configs", [])
                                            for t in sc["targets"]]]
    assert len(jobs) == 1, "one scrape job must target the compose service cinfer:8000"
    job = jobs[0]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    assert job.get("scheme", "http") == "http"
    assert "cinfer" in SERVICES   # the target's host name is the compose service


def test_grafana_provisions_datasource_and_dashboard():
    g = SERVICES["grafana"]
    mounts = bind_mounts(g)
    prov = mounts["/etc/grafana/provisioning"]
    assert prov == (DEPLOY / "grafana" / "provisioning").resolve()

    [ds_file] = sorted((prov / "datasources").glob("*.yml"))
    [ds] = yaml.safe_load(ds_file.read_text())["datasources"]
    assert ds["type"] == "prometheus" and ds["isDefault"] is True
    m = re.fullmatch(r"http://(\w+):(\d+)", ds["url"])
    assert m and m.group(1) == "prometheus" and m.group(1) in SERVICES
    assert "127.0.0.1:9090:9090" in SERVICES["prometheus"]["ports"]
    assert m.group(2) == "9090"

    [dash_file] = sorted((prov / "dashboards").glob("*.yml"))
    [provider] = yaml.safe_load(dash_file.read_text())["providers"]
    assert provider["type"] == "file"
    dashboards = {dst: src for dst, src in mounts.items()
                  if dst.startswith(provider["options"]["path"].rstrip("/") + "/")}
    assert list(dashboards.values()) == [(DEPLOY / "grafana" / "cinfer-dashboard.json").resolve()]
    dashboard = json.loads((DEPLOY / "grafana" / "cinfer-dashboard.json").read_text())
    # The dashboard's data-source variable picks a Prometheus source: the provisioned one.
    var = [v for v in dashboard["templating"]["list"] if v["type"] == "datasource"]
    assert var and var[0]["query"] == ds["type"]

    assert g["environment"]["GF_ANALYTICS_REPORTING_ENABLED"] == "false"
    assert g["environment"]["GF_USERS_ALLOW_SIGN_UP"] == "false"
