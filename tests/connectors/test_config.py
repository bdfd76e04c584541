"""Connector settings (SPEC §7): defaults, secrets from `*_FILE`, complete error messages."""
from __future__ import annotations

import pytest

from relstream.connectors.config import ConfigError, ConnectorConfig

ALL = ["RELSTREAM_DATAVERSE_URL", "RELSTREAM_GRAPH_URL", "RELSTREAM_AUTHORITY", "RELSTREAM_TENANT_ID",
       "RELSTREAM_CLIENT_ID", "RELSTREAM_CLIENT_SECRET", "RELSTREAM_CLIENT_SECRET_FILE",
       "RELSTREAM_INTERNAL_DOMAINS", "RELSTREAM_MAILBOXES", "RELSTREAM_CA_BUNDLE", "RELSTREAM_CONNECTOR_STATE"]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ALL:
        monkeypatch.delenv(name, raising=False)


def test_defaults_and_lists(monkeypatch):
    monkeypatch.setenv("RELSTREAM_DATAVERSE_URL", "https://contoso.crm4.dynamics.com/")
    monkeypatch.setenv("RELSTREAM_INTERNAL_DOMAINS", " Contoso.com, @eu.contoso.com ,")
    monkeypatch.setenv("RELSTREAM_MAILBOXES", "anna@contoso.com,ben@contoso.com")
    config = ConnectorConfig.from_env()
    assert (config.dataverse_url, config.graph_url, config.authority) == (
        "https://contoso.crm4.dynamics.com", "https://graph.microsoft.com", "https://login.microsoftonline.com")
    assert config.internal_domains == ("contoso.com", "eu.contoso.com")
    assert config.mailboxes == ("anna@contoso.com", "ben@contoso.com")
    assert config.mail_folders == ("inbox", "sentitems") and config.state == ".stack/connector-state.json"


def test_secret_from_file_never_shows_in_repr(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("hunter2\n")
    monkeypatch.setenv("RELSTREAM_CLIENT_SECRET_FILE", str(secret))
    config = ConnectorConfig.from_env()
    assert config.client_secret == "hunter2" and "hunter2" not in repr(config)
    monkeypatch.setenv("RELSTREAM_CLIENT_SECRET", "hunter2")
    with pytest.raises(ConfigError, match="either RELSTREAM_CLIENT_SECRET or RELSTREAM_CLIENT_SECRET_FILE"):
        ConnectorConfig.from_env()
    monkeypatch.delenv("RELSTREAM_CLIENT_SECRET")
    monkeypatch.setenv("RELSTREAM_CLIENT_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="RELSTREAM_CLIENT_SECRET_FILE: cannot read"):
        ConnectorConfig.from_env()


def test_require_names_every_missing_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("RELSTREAM_TENANT_ID", "t")
    monkeypatch.setenv("RELSTREAM_CA_BUNDLE", str(tmp_path / "none.pem"))
    config = ConnectorConfig.from_env()
    with pytest.raises(ConfigError) as caught:
        config.require("dataverse_url", "tenant_id", "client_id", "client_secret")
    assert str(caught.value) == ("missing RELSTREAM_DATAVERSE_URL, RELSTREAM_CLIENT_ID, "
                                 "RELSTREAM_CLIENT_SECRET (or RELSTREAM_CLIENT_SECRET_FILE)")
    monkeypatch.setenv("RELSTREAM_CLIENT_ID", "c")
    monkeypatch.setenv("RELSTREAM_CLIENT_SECRET", "s")
    monkeypatch.setenv("RELSTREAM_DATAVERSE_URL", "https://x")
    with pytest.raises(ConfigError, match="RELSTREAM_CA_BUNDLE: no file"):
        ConnectorConfig.from_env().require("dataverse_url")
