"""The Helm chart deploy/helm/cinfer: lint, render, and check what it renders.

Needs helm from scripts/install-helm.sh (third_party/helm/bin/helm, or $HELM).
One test also starts the real binary ($CINFER_BIN, default build/cinfer) with the
rendered configuration file and secrets.
"""

import base64
import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART = REPO_ROOT / "deploy" / "helm" / "cinfer"
HELM = Path(os.environ.get("HELM", REPO_ROOT / "third_party" / "helm" / "bin" / "helm"))
RELEASE = "cin"
NAMESPACE = "infer"

if not (HELM.is_file() and os.access(HELM, os.X_OK)):
    pytest.skip(f"helm not found at {HELM}: run scripts/install-helm.sh",
                allow_module_level=True)


def helm(*args, check=True):
    # lint and template read no repositories or plugins; keep helm's dirs out of $HOME.
    env = {**os.environ, "HELM_CACHE_HOME": "/tmp/cinfer-helm-test/cache",
           "HELM_CONFIG_HOME": "/tmp/cinfer-helm-test/config",
           "HELM_DATA_HOME": "/tmp/cinfer-helm-test/data"}
    r = subprocess.run([str(HELM), *args], capture_output=True, text=True, env=env,
                       timeout=120)
    if check:
        assert r.returncode == 0, f"helm {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}"
    return r


def values_file(tmp_path, values):
    p = tmp_path / f"values-{len(list(tmp_path.iterdir()))}.yaml"
    p.write_text(yaml.safe_dump(values))
    return str(p)


def template(tmp_path, values=None, check=True):
    args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE]
    if values:
        args += ["-f", values_file(tmp_path, values)]
    return helm(*args, check=check)


def render(tmp_path, values=None):
    """The rendered objects, keyed by (kind, name)."""
    docs = [d for d in yaml.safe_load_all(template(tmp_path, values).stdout) if d]
    objs = {}
    for d in docs:
        key = (d["kind"], d["metadata"]["name"])
        assert key not in objs, f"{key} rendered twice"
        objs[key] = d
    return objs


def one(objs, kind):
    found = [o for (k, _), o in objs.items() if k == kind]
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def container(deploy):
    cs = deploy["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in cs] == ["cinfer"]
    return cs[0]


def env_of(c):
    return {e["name"]: e for e in c.get("env", [])}


def volume(deploy, name):
    vols = {v["name"]: v for v in deploy["spec"]["template"]["spec"]["volumes"]}
    assert name in vols, f"no volume {name}: {sorted(vols)}"
    return vols[name]


def mount(c, path):
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    assert path in mounts, f"nothing mounted at {path}: {sorted(mounts)}"
    return mounts[path]


def secret_value(objs, name, key):
    s = objs[("Secret", name)]
    assert key in s["data"], f"Secret {name} has no key {key}: {sorted(s['data'])}"
    return base64.b64decode(s["data"][key]).decode()


FULL = {
    "ingress": {"enabled": True, "className": "nginx", "host": "cinfer.test.example",
                "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt"},
                "tls": {"enabled": True}},
    "serviceMonitor": {"enabled": True, "interval": "15s",
                       "labels": {"release": "kube-prometheus-stack"}},
    "metricsToken": {"value": "scrape-token-0123456789"},
}


# --------------------------------------------------------------------------
# lint
# --------------------------------------------------------------------------

@pytest.mark.parametrize("values", [
    None, FULL, {"config": {"metrics": {"listen": "0.0.0.0:9464"}},
                 "serviceMonitor": {"enabled": True}, "persistence": {"enabled": False}},
], ids=["defaults", "ingress+monitor", "metrics-listener"])
def test_lint_strict(tmp_path, values):
    args = ["lint", "--strict", str(CHART)]
    if values:
        args += ["-f", values_file(tmp_path, values)]
    r = helm(*args)
    assert "0 chart(s) failed" in r.stdout, r.stdout


# --------------------------------------------------------------------------
# defaults
# --------------------------------------------------------------------------

def test_default_kinds(tmp_path):
    objs = render(tmp_path)
    kinds = sorted(k for k, _ in objs)
    assert kinds == ["ConfigMap", "Deployment", "PersistentVolumeClaim", "Secret", "Service"]
    for o in objs.values():
        assert o["metadata"]["labels"]["app.kubernetes.io/instance"] == RELEASE
        assert o["metadata"]["labels"]["app.kubernetes.io/version"] == \
            yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]


def test_deployment_security_settings(tmp_path):
    d = one(render(tmp_path), "Deployment")
    pod = d["spec"]["template"]["spec"]
    psc = pod["securityContext"]
    assert psc["runAsNonRoot"] is True
    assert psc["runAsUser"] == 10001
    assert psc["runAsGroup"] == 10001
    assert psc["fsGroup"] == 10001
    assert psc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False

    csc = container(d)["securityContext"]
    assert csc["runAsNonRoot"] is True
    assert csc["runAsUser"] == 10001
    assert csc["readOnlyRootFilesystem"] is True
    assert csc["allowPrivilegeEscalation"] is False
    assert csc["privileged"] is False
    assert csc["capabilities"]["drop"] == ["ALL"]
    assert "add" not in csc["capabilities"]
    assert csc["seccompProfile"] == {"type": "RuntimeDefault"}

    # The only writable places: the data volume and a memory-backed /tmp.
    tmp = volume(d, mount(container(d), "/tmp")["name"])
    assert tmp["emptyDir"]["medium"] == "Memory"
    assert tmp["emptyDir"]["sizeLimit"]


def test_deployment_single_replica_recreate_and_probes(tmp_path):
    d = one(render(tmp_path), "Deployment")
    assert d["spec"]["replicas"] == 1
    assert d["spec"]["strategy"] == {"type": "Recreate"}
    c = container(d)
    port = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert port == {"http": 8000}
    live, ready = c["livenessProbe"], c["readinessProbe"]
    assert live["httpGet"] == {"path": "/health/live", "port": "http"}
    assert ready["httpGet"] == {"path": "/health/ready", "port": "http"}
    for p in (live, ready):
        assert p["periodSeconds"] > 0 and p["timeoutSeconds"] > 0 and p["failureThreshold"] > 0
    assert c["resources"]["requests"]["memory"] and c["resources"]["limits"]["memory"]
    assert c["image"] == "localhost/cinfer:" + \
        yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]


def test_image_contract(tmp_path):
    """The chart passes only arguments (serve --config ...) and runs as 10001: the
    image's entrypoint must be the binary, its user 10001."""
    containerfile = REPO_ROOT / "deploy" / "Containerfile"
    if not containerfile.exists():
        pytest.skip("deploy/Containerfile not written yet")
    runtime = containerfile.read_text().split("\nFROM ")[-1]
    lines = [ln.strip() for ln in runtime.splitlines()]
    [entrypoint] = [ln for ln in lines if ln.startswith("ENTRYPOINT ")]
    assert re.fullmatch(r'ENTRYPOINT \["[^"]*/cinfer"\]', entrypoint), entrypoint
    [user] = [ln for ln in lines if ln.startswith("USER ")]
    d = one(render(tmp_path), "Deployment")
    psc = d["spec"]["template"]["spec"]["securityContext"]
    assert user == f"USER {psc['runAsUser']}:{psc['runAsGroup']}"
    assert "EXPOSE 8000" in lines


def test_data_volume_is_the_pvc_at_data(tmp_path):
    objs = render(tmp_path)
    d, pvc = one(objs, "Deployment"), one(objs, "PersistentVolumeClaim")
    m = mount(container(d), "/data")
    assert not m.get("readOnly", False)
    assert volume(d, m["name"])["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]
    assert pvc["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert pvc["spec"]["resources"]["requests"]["storage"] == "10Gi"
    assert "storageClassName" not in pvc["spec"]
    assert pvc["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"

    pvc = one(render(tmp_path, {"persistence": {"size": "50Gi", "storageClass": "fast"}}),
              "PersistentVolumeClaim")
    assert pvc["spec"]["resources"]["requests"]["storage"] == "50Gi"
    assert pvc["spec"]["storageClassName"] == "fast"

    d = one(render(tmp_path, {"persistence": {"existingClaim": "my-claim"}}), "Deployment")
    assert volume(d, "data")["persistentVolumeClaim"]["claimName"] == "my-claim"


def test_configmap_is_mounted_and_passed_to_config(tmp_path):
    objs = render(tmp_path, {"config": {"request": {"timeout_ms": 9000}}})
    d, cm = one(objs, "Deployment"), one(objs, "ConfigMap")
    c = container(d)
    args = c["args"]
    assert args[0] == "serve" and "--config" in args
    config_path = Path(args[args.index("--config") + 1])
    m = mount(c, str(config_path.parent))
    assert m["readOnly"] is True
    assert volume(d, m["name"])["configMap"]["name"] == cm["metadata"]["name"]
    assert config_path.name in cm["data"]
    config = yaml.safe_load(cm["data"][config_path.name])
    assert config["server"]["host"] == "0.0.0.0"
    assert config["server"]["port"] == 8000
    assert config["server"]["data_dir"] == "/data"
    assert config["request"]["timeout_ms"] == 9000
    # A config change rolls the pod.
    d2 = one(render(tmp_path, {"config": {"request": {"timeout_ms": 9001}}}), "Deployment")
    ann = lambda x: x["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    assert ann(d) != ann(d2)


def test_jwt_secret_generated_and_wired(tmp_path):
    objs = render(tmp_path)
    ref = env_of(container(one(objs, "Deployment")))["CINFER_AUTH__JWT_SECRET"]
    ref = ref["valueFrom"]["secretKeyRef"]
    key = secret_value(objs, ref["name"], ref["key"])
    assert len(key) >= 32          # auth.jwt_secret's minimum
    assert "CINFER_METRICS__TOKEN" not in env_of(container(one(objs, "Deployment")))
    # Generated per install (helm template cannot read the cluster's copy back).
    other = render(tmp_path)
    assert secret_value(other, ref["name"], ref["key"]) != key


def test_jwt_secret_given_or_existing(tmp_path):
    value = "k" * 40
    objs = render(tmp_path, {"jwtSecret": {"value": value}})
    ref = env_of(container(one(objs, "Deployment")))["CINFER_AUTH__JWT_SECRET"]
    ref = ref["valueFrom"]["secretKeyRef"]
    assert secret_value(objs, ref["name"], ref["key"]) == value

    objs = render(tmp_path, {"jwtSecret": {"existingSecret": "vault-cinfer",
                                           "existingSecretKey": "signing-key"}})
    assert [k for k, _ in objs].count("Secret") == 0
    ref = env_of(container(one(objs, "Deployment")))["CINFER_AUTH__JWT_SECRET"]
    assert ref["valueFrom"]["secretKeyRef"] == {"name": "vault-cinfer", "key": "signing-key"}


def test_service_targets_the_pod(tmp_path):
    objs = render(tmp_path)
    d, svc = one(objs, "Deployment"), one(objs, "Service")
    assert svc["spec"]["type"] == "ClusterIP"
    pod_labels = d["spec"]["template"]["metadata"]["labels"]
    assert svc["spec"]["selector"].items() <= pod_labels.items()
    assert d["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert svc["spec"]["ports"] == [{"name": "http", "port": 8000, "targetPort": "http",
                                     "protocol": "TCP"}]


def test_extra_env(tmp_path):
    d = one(render(tmp_path, {"extraEnv": [{"name": "CINFER_SERVER__LOG_LEVEL",
                                             "value": "debug"}]}), "Deployment")
    assert env_of(container(d))["CINFER_SERVER__LOG_LEVEL"]["value"] == "debug"


# --------------------------------------------------------------------------
# ingress and ServiceMonitor
# --------------------------------------------------------------------------

def test_ingress_and_servicemonitor(tmp_path):
    objs = render(tmp_path, FULL)
    svc, d = one(objs, "Service"), one(objs, "Deployment")
    svc_ports = {p["name"] for p in svc["spec"]["ports"]}

    ing = one(objs, "Ingress")
    assert ing["apiVersion"] == "networking.k8s.io/v1"
    assert ing["spec"]["ingressClassName"] == "nginx"
    assert ing["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt"
    [rule] = ing["spec"]["rules"]
    assert rule["host"] == "cinfer.test.example"
    [path] = rule["http"]["paths"]
    assert path["path"] == "/" and path["pathType"] == "Prefix"
    backend = path["backend"]["service"]
    assert backend["name"] == svc["metadata"]["name"]
    assert backend["port"]["name"] in svc_ports
    [tls] = ing["spec"]["tls"]
    assert tls["hosts"] == ["cinfer.test.example"]
    assert tls["secretName"] == f"{svc['metadata']['name']}-tls"

    sm = one(objs, "ServiceMonitor")
    assert sm["apiVersion"] == "monitoring.coreos.com/v1"
    assert sm["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert sm["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()
    assert sm["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    [ep] = sm["spec"]["endpoints"]
    assert ep["port"] in svc_ports and ep["path"] == "/metrics" and ep["interval"] == "15s"
    # The scraper sends the token the server is given.
    cred = ep["authorization"]["credentials"]
    assert ep["authorization"]["type"] == "Bearer"
    assert secret_value(objs, cred["name"], cred["key"]) == "scrape-token-0123456789"
    ref = env_of(container(d))["CINFER_METRICS__TOKEN"]["valueFrom"]["secretKeyRef"]
    assert ref == cred


def test_ingress_tls_secret_name_and_monitor_without_token(tmp_path):
    objs = render(tmp_path, {"ingress": {"enabled": True, "host": "a.example",
                                         "tls": {"enabled": True, "secretName": "a-cert"}},
                             "serviceMonitor": {"enabled": True}})
    assert one(objs, "Ingress")["spec"]["tls"][0]["secretName"] == "a-cert"
    assert "ingressClassName" not in one(objs, "Ingress")["spec"]
    [ep] = one(objs, "ServiceMonitor")["spec"]["endpoints"]
    assert "authorization" not in ep
    ing = one(render(tmp_path, {"ingress": {"enabled": True}}), "Ingress")
    assert "tls" not in ing["spec"]


def render_notes(tmp_path, values=None):
    """NOTES.txt as `helm install` prints it: helm template skips NOTES.txt, so a copy
    of the chart renders it through tpl into a ConfigMap."""
    chart = tmp_path / "chart"
    if not chart.exists():
        shutil.copytree(CHART, chart)
        (chart / "notes.txt").write_text((CHART / "templates" / "NOTES.txt").read_text())
        (chart / "templates" / "NOTES.txt").unlink()
        (chart / "templates" / "notes-under-test.yaml").write_text(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\n"
            "data:\n  notes: {{ tpl (.Files.Get \"notes.txt\") . | toJson }}\n")
    args = ["template", "cinfer", str(chart), "--namespace", "cinfer",
            "--show-only", "templates/notes-under-test.yaml"]
    if values:
        args += ["-f", values_file(tmp_path, values)]
    return yaml.safe_load(helm(*args).stdout)["data"]["notes"]


def test_notes(tmp_path):
    notes = render_notes(tmp_path)
    assert "One replica, strategy Recreate" in notes and "single" in notes
    assert "port-forward svc/cinfer 8000:8000" in notes
    assert "exec deploy/cinfer -- cat /data/setup-code" in notes
    assert "Secret cinfer-jwt" in notes
    assert "(cinfer-data) is kept" in notes
    notes = render_notes(tmp_path, {"ingress": {"enabled": True, "host": "c.example",
                                                "tls": {"enabled": True}},
                                    "persistence": {"enabled": False}})
    assert "URL: https://c.example/" in notes and "port-forward" not in notes
    assert "persistence.enabled=false" in notes


def test_metrics_on_a_listener_of_its_own(tmp_path):
    objs = render(tmp_path, {"config": {"metrics": {"listen": "0.0.0.0:9464"}},
                             "serviceMonitor": {"enabled": True}})
    c = container(one(objs, "Deployment"))
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"http": 8000,
                                                                    "metrics": 9464}
    svc_ports = {p["name"]: p for p in one(objs, "Service")["spec"]["ports"]}
    assert svc_ports["metrics"]["port"] == 9464
    assert svc_ports["metrics"]["targetPort"] == "metrics"
    [ep] = one(objs, "ServiceMonitor")["spec"]["endpoints"]
    assert ep["port"] == "metrics"
    cm = one(objs, "ConfigMap")
    assert yaml.safe_load(cm["data"]["cinfer.yaml"])["metrics"]["listen"] == "0.0.0.0:9464"


# --------------------------------------------------------------------------
# refused settings
# --------------------------------------------------------------------------

def test_two_replicas_refused(tmp_path):
    r = template(tmp_path, {"replicaCount": 2}, check=False)
    assert r.returncode != 0
    assert "replicaCount=2" in r.stderr
    assert "SQLite" in r.stderr and "single writer" in r.stderr
    assert r.stdout == ""


def test_zero_replicas_allowed(tmp_path):
    assert one(render(tmp_path, {"replicaCount": 0}), "Deployment")["spec"]["replicas"] == 0


@pytest.mark.parametrize("values,message", [
    ({"config": {"auth": {"jwt_secret": "x" * 40}}}, "config.auth.jwt_secret"),
    ({"config": {"metrics": {"token": "t"}}}, "config.metrics.token"),
    ({"jwtSecret": {"value": "short"}}, "at least 32 characters"),
    ({"config": {"server": {"data_dir": "/var/lib/cinfer"}}}, "must stay /data"),
    ({"config": {"metrics": {"listen": "127.0.0.1:9464"}}}, "config.metrics.listen"),
    ({"config": {"metrics": {"listen": "0.0.0.0:0"}}}, "with a fixed port"),
])
def test_unsafe_values_refused(tmp_path, values, message):
    r = template(tmp_path, values, check=False)
    assert r.returncode != 0
    assert message in r.stderr


# --------------------------------------------------------------------------
# the rendered configuration runs the real server
# --------------------------------------------------------------------------

def _integration_helpers():
    spec = importlib.util.spec_from_file_location(
        "cinfer_integration_conftest", REPO_ROOT / "tests" / "integration" / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_rendered_config_and_secrets_run_the_server(tmp_path):
    """The ConfigMap's file and the Secrets' values, under the variable names the
    Deployment uses, start the real binary: the chart's keys are valid config keys,
    the JWT key comes from the environment, the metrics token guards /metrics."""
    h = _integration_helpers()
    h.require_binary()
    objs = render(tmp_path, FULL)
    cm, d = one(objs, "ConfigMap"), one(objs, "Deployment")
    args = container(d)["args"]
    config_name = Path(args[args.index("--config") + 1]).name
    config_file = tmp_path / config_name
    config_file.write_text(cm["data"][config_name])

    env = {}
    for name, e in env_of(container(d)).items():
        ref = e["valueFrom"]["secretKeyRef"]
        env[name] = secret_value(objs, ref["name"], ref["key"])
    # Only the listen address and data dir differ from the pod (loopback, scratch dir).
    server = h.Server(tmp_path / "srv", config_file=config_file, env_overrides=False)
    env.update({"CINFER_SERVER__HOST": "127.0.0.1", "CINFER_SERVER__PORT": str(server.port),
                "CINFER_SERVER__DATA_DIR": str(server.data_dir)})
    server.extra_env = env
    server.start()
    try:
        assert server.get("/health/ready").status_code == 200
        assert not (server.data_dir / "jwt-secret").exists()   # the key came from the Secret
        assert server.setup().status_code in (200, 201)
        jwt = server.login_token()
        r = server.get(f"{h.API}/system/config", headers=h.bearer(jwt))
        assert r.status_code == 200, r.text
        keys = {k["key"]: k for k in r.json()["keys"]}
        assert env["CINFER_AUTH__JWT_SECRET"] not in r.text
        for key in ("auth.jwt_secret", "metrics.token"):
            assert keys[key]["source"] == "environment", keys[key]
        # The rest of the chart's file is read as the file layer.
        assert keys["server.log_format"]["source"] == "file"
        assert keys["server.log_format"]["value"] == "json"
        assert server.get("/metrics").status_code == 401
        r = server.get("/metrics", headers=h.bearer(env["CINFER_METRICS__TOKEN"]))
        assert r.status_code == 200 and "process_cpu_seconds_total" in r.text
    finally:
        assert server.stop() == 0
