"""The demo seed leaves a desk that can publish: a trained spokesperson and a holding statement."""

from __future__ import annotations

from crisis.people.service import get_person
from crisis.statements import service


def test_seed_demo_authorises_the_spokesperson_and_starts_the_library_once(app, runner):
    for _ in range(2):
        result = runner.invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        assert service.is_spokesperson(get_person("spokesperson@example.com"), "instagram")
        assert not service.is_spokesperson(get_person("social@example.com"), "instagram")
        assert len(service.list_spokespeople()) == 1
        assert [h.title for h in service.list_holding_statements()] == ["We are aware and looking into it"]
