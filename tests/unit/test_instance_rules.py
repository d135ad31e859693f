from bzapper.domain.instances import emits_event, should_open


def test_each_new_state_emits_its_event_once():
    assert emits_event("disconnected", None, "connected", None) == "instance.connected"
    assert emits_event("connected", None, "connected", None) is None
    assert emits_event("connected", None, "disconnected", None) == "instance.disconnected"
    assert emits_event("connected", None, "failed", None) == "instance.disconnected"
    assert emits_event("connected", None, "logged_out", None) == "instance.logged_out"
    assert emits_event("connected", None, "restricted", None) == "instance.restricted"


def test_every_new_qr_is_an_event_but_the_same_one_is_not():
    assert emits_event("disconnected", None, "pairing", "qr-1") == "instance.qr"
    assert emits_event("pairing", "qr-1", "pairing", "qr-2") == "instance.qr"
    assert emits_event("pairing", "qr-2", "pairing", "qr-2") is None


def test_a_logged_out_or_deactivated_number_is_not_reopened_by_a_takeover():
    assert should_open("connected", True) and should_open("restricted", True) and should_open("disconnected", True)
    assert not should_open("logged_out", True)
    assert not should_open("connected", False)
