from bzapper.domain.routing import choose_number

NUMBERS = [f"inst_{n}" for n in range(5)]
RECIPIENTS = [f"55119{n:08d}@s.whatsapp.net" for n in range(500)]


def test_no_connected_number_means_no_choice():
    assert choose_number("5511988888888@s.whatsapp.net", []) is None


def test_a_recipient_keeps_its_number_whatever_the_order_of_the_list():
    for recipient in RECIPIENTS[:50]:
        assert choose_number(recipient, NUMBERS) == choose_number(recipient, list(reversed(NUMBERS)))


def test_recipients_spread_over_the_numbers():
    counts = {number: 0 for number in NUMBERS}
    for recipient in RECIPIENTS:
        counts[choose_number(recipient, NUMBERS)] += 1
    assert all(60 <= count <= 140 for count in counts.values()), counts


def test_when_a_number_goes_only_its_recipients_move():
    before = {recipient: choose_number(recipient, NUMBERS) for recipient in RECIPIENTS}
    after = {recipient: choose_number(recipient, NUMBERS[1:]) for recipient in RECIPIENTS}
    moved = [recipient for recipient in RECIPIENTS if before[recipient] != after[recipient]]
    assert moved and all(before[recipient] == NUMBERS[0] for recipient in moved)
