"""Search-result and item-page parsing, tested directly on HTML strings in both layouts."""
import pytest

from soldsight.scrape.blocks import block_reason
from soldsight.scrape.item_page import ItemPageError, parse_item_page
from soldsight.scrape.search_page import parse_search_page
from soldsight.scrape.urls import listing_id_from_url, search_url

URL = "https://www.ebay.com/sch/i.html?_nkw=rumours&LH_Sold=1&LH_Complete=1&_pgn=1"


def s_item(lid="186011112222", title="Fleetwood Mac Rumours LP", caption="Sold  Jul 20, 2026",
           price='<span class="POSITIVE">$19.99</span>', extra="", href=None):
    href = href or f"https://www.ebay.com/itm/{lid}?hash=item2b4&amdata=enc"
    return (f'<li class="s-item s-item__pl-on-bottom"><div class="s-item__wrapper clearfix">'
            f'<div class="s-item__image-wrapper image-treatment"><img src="https://i.ebayimg.com/thumbs/images/g/{lid}/s-l140.jpg"></div>'
            f'<div class="s-item__info clearfix"><div class="s-item__caption"><span class="s-item__caption--signal POSITIVE">'
            f'<span>{caption}</span></span></div><a class="s-item__link" href="{href}"><div class="s-item__title">'
            f'<span class="LIGHT_HIGHLIGHT">New Listing</span><span role="heading">{title}</span></div></a>'
            f'<div class="s-item__subtitle"><span class="SECONDARY_INFO">Pre-Owned</span></div>'
            f'<span class="s-item__price">{price}</span>'
            f'<span class="s-item__shipping s-item__logisticsCost">+$4.50 shipping</span>{extra}</div></div></li>')


def s_card(lid="186033334444", title="Fleetwood Mac Rumours LP", caption="Sold  Jul 21, 2026",
           price='<span class="su-styled-text positive bold s-card__price">£12.50</span>', rows=(), with_id=True):
    data = f' data-listingid="{lid}"' if with_id else ""
    extra = "".join(f'<div class="s-card__attribute-row">{r}</div>' for r in rows)
    return (f'<li class="s-card s-card--horizontal"{data}><div class="su-card-container">'
            f'<a class="su-link image-treatment" href="https://www.ebay.com/itm/{lid}?itmmeta=01J"><img class="s-card__image" '
            f'src="https://i.ebayimg.com/images/g/{lid}/s-l500.webp"></a>'
            f'<div class="s-card__caption"><span class="su-styled-text positive default">{caption}</span></div>'
            f'<a class="su-link" href="https://www.ebay.com/itm/{lid}?itmmeta=01J"><div role="heading" class="s-card__title">'
            f'<span class="su-styled-text primary default">{title}</span><span class="clipped">Opens in a new window or tab</span></div></a>'
            f'<div class="s-card__subtitle"><span>Brand New</span></div>'
            f'<div class="s-card__attribute-row">{price}</div>{extra}'
            f'<div class="s-card__attribute-row"><span>+£3.20 postage</span></div></div></li>')


def page(cards: str, more: str = "", heading: str = "12 results for rumours") -> str:
    return (f'<html><head><title>rumours | eBay</title></head><body><h1 class="srp-controls__count-heading">{heading}</h1>'
            f'{more}<ul class="srp-results srp-list">{cards}</ul></body></html>')


SHOP_ON_EBAY = s_item(lid="123456", title="Shop on eBay", price="$20.00")


def test_older_layout_card_fields():
    parsed = parse_search_page(page(SHOP_ON_EBAY + s_item()), URL)
    assert parsed.status == "results" and parsed.layout == "s-item"
    [card] = parsed.cards
    assert card.listing_id == "186011112222"
    assert card.title == "Fleetwood Mac Rumours LP"          # 'New Listing' badge dropped
    assert (card.price, card.currency, card.sold) == (19.99, "USD", True)
    assert card.sold_at.isoformat() == "2026-07-20T00:00:00+00:00"
    assert card.shipping_cost == 4.50
    assert card.condition_text == "Pre-Owned"
    assert card.image_url.endswith("/s-l140.jpg")
    assert card.item_url.startswith("https://www.ebay.com/itm/186011112222")
    assert parsed.total_results == 12


def test_current_layout_card_fields():
    parsed = parse_search_page(page(s_card()), URL)
    assert parsed.layout == "s-card"
    [card] = parsed.cards
    assert card.listing_id == "186033334444"
    assert card.title == "Fleetwood Mac Rumours LP"          # 'Opens in a new window or tab' dropped
    assert (card.price, card.currency, card.shipping_cost) == (12.50, "GBP", 3.20)
    assert card.image_url == "https://i.ebayimg.com/images/g/186033334444/s-l500.webp"
    assert card.condition_text == "Brand New"


def test_current_layout_id_comes_from_the_itm_link_when_there_is_no_data_attribute():
    [card] = parse_search_page(page(s_card(lid="186055556666", with_id=False)), URL).cards
    assert card.listing_id == "186055556666"


def test_shop_on_ebay_placeholder_and_adverts_are_skipped_not_errors():
    advert = ('<li class="s-card s-card--ad"><a href="/b/Vinyl-Records/176985"><div class="s-card__title">'
              '<span>Records for every collection</span></div></a><span>Sponsored</span></li>')
    parsed = parse_search_page(page(SHOP_ON_EBAY + s_card() + advert), URL)
    assert [c.listing_id for c in parsed.cards] == ["186033334444"]
    assert parsed.errors == []
    assert len(parsed.skipped) == 2
    assert any("Shop on eBay" in reason for reason in parsed.skipped)


@pytest.mark.parametrize("build", [s_item, s_card])
def test_ended_is_kept_as_unsold(build):
    [card] = parse_search_page(page(build(caption="Ended  Jul 19, 2026")), URL).cards
    assert card.sold is False
    assert card.sold_at.day == 19


def test_price_range_card():
    rng = ('<span class="su-styled-text positive s-card__price">$10.00</span> to '
           '<span class="su-styled-text positive s-card__price">$20.00</span>')
    [card] = parse_search_page(page(s_card(price=rng)), URL).cards
    assert (card.price, card.price_low, card.price_high) == (None, 10.0, 20.0)


def test_price_range_older_layout():
    [card] = parse_search_page(page(s_item(price="$10.00 to $20.00")), URL).cards
    assert (card.price, card.price_low, card.price_high) == (None, 10.0, 20.0)


def test_struck_through_original_price_is_not_the_price():
    older = s_item(extra='<span class="s-item__trending-price"><span class="STRIKETHROUGH">$25.00</span></span>',
                   price='<span class="POSITIVE">$18.00</span>')
    current = s_card(rows=['<span class="su-styled-text strikethrough secondary">$25.00</span>'],
                     price='<span class="s-card__price">$18.00</span>')
    for html in (older, current):
        [card] = parse_search_page(page(html), URL).cards
        assert (card.price, card.original_price) == (18.0, 25.0)


def test_or_best_offer_is_a_flag_not_part_of_the_price():
    [card] = parse_search_page(page(s_card(rows=["<span>or Best Offer</span>"])), URL).cards
    assert (card.price, card.best_offer, card.best_offer_accepted) == (12.5, True, False)
    [card] = parse_search_page(page(s_item(price="$5.00 or Best Offer")), URL).cards
    assert (card.price, card.best_offer) == (5.0, True)


def test_best_offer_accepted_with_only_a_struck_price():
    price = '<span class="s-card__price"><span class="STRIKETHROUGH">$30.00</span></span>'
    [card] = parse_search_page(page(s_card(price=price, rows=["<span>Best offer accepted</span>"])), URL).cards
    assert card.best_offer_accepted and card.price == 30.0


@pytest.mark.parametrize("price, currency, amount", [
    ('<span class="s-card__price">C $20.00</span>', "CAD", 20.0),
    ('<span class="s-card__price">AU $30.00</span>', "AUD", 30.0),
    ('<span class="s-card__price">EUR 15,00</span>', "EUR", 15.0),
    ('<span class="s-card__price">GBP 9.99</span>', "GBP", 9.99),
])
def test_other_currencies_on_cards(price, currency, amount):
    [card] = parse_search_page(page(s_card(price=price)), URL).cards
    assert (card.currency, card.price) == (currency, amount)


def test_a_card_without_a_price_or_caption_becomes_an_error_with_its_reason():
    broken = s_card(lid="186077778888", price="<span class='s-card__price'>See price</span>")
    no_caption = s_item(lid="186099990000", caption="")
    parsed = parse_search_page(page(s_card() + broken + no_caption), URL)
    assert [c.listing_id for c in parsed.cards] == ["186033334444"]
    reasons = {e.listing_id: e.reason for e in parsed.errors}
    assert reasons["186077778888"].startswith("price:")
    assert "Sold/Ended" in reasons["186099990000"]


def test_results_after_the_fewer_words_divider_are_not_taken():
    divider = '<li class="srp-river-answer srp-river-answer--REWRITE_START">Results matching fewer words</li>'
    parsed = parse_search_page(page(s_card() + divider + s_card(lid="186000009999")), URL)
    assert [c.listing_id for c in parsed.cards] == ["186033334444"]


def test_an_empty_result_page_is_empty():
    html = page(SHOP_ON_EBAY, more='<div class="srp-save-null-search"><h3>No exact matches found</h3></div>',
                heading="0 results for zzz")
    parsed = parse_search_page(html, URL)
    assert parsed.status == "empty" and parsed.cards == [] and parsed.next_url is None


@pytest.mark.parametrize("html", [
    "<html><head><title>Pardon Our Interruption</title></head><body><h1>Pardon Our Interruption...</h1></body></html>",
    '<html><head><title>Security Measure</title></head><body><div class="h-captcha"></div></body></html>',
    '<html><body><form action="/splashui/captcha_submit"><div id="captcha"></div></form></body></html>',
])
def test_block_pages_are_blocked_never_zero_results(html):
    parsed = parse_search_page(html, URL)
    assert parsed.status == "blocked" and parsed.reason
    assert block_reason(html)


def test_a_record_titled_captcha_is_not_a_block():
    assert parse_search_page(page(s_card(title="Captcha - Pardon Our Mess (EP)")), URL).status == "results"


def test_a_search_for_a_record_called_pardon_our_interruption_is_not_a_block():
    html = page(s_card(title="Pardon Our Interruption - Live LP")).replace(
        "<title>rumours | eBay</title>", "<title>Pardon Our Interruption for sale | eBay</title>")
    assert parse_search_page(html, URL).status == "results"


def test_a_result_page_that_loads_a_captcha_script_is_still_results():
    html = page(s_card()).replace("</body>", '<script src="/splashui/captcha/prefetch.js"></script></body>')
    assert parse_search_page(html, URL).status == "results"


def test_a_page_with_no_cards_and_no_notice_is_unrecognised_not_empty():
    parsed = parse_search_page("<html><body><p>Something went wrong</p></body></html>", URL)
    assert parsed.status == "unrecognised"
    parsed = parse_search_page(page(SHOP_ON_EBAY), URL)  # only the placeholder card
    assert parsed.status == "unrecognised"


def test_next_page_link_is_followed_and_a_disabled_one_is_not():
    nxt = '<nav class="pagination"><a class="pagination__next" href="/sch/i.html?_nkw=rumours&_pgn=2">&gt;</a></nav>'
    assert parse_search_page(page(s_card(), more=nxt), URL).next_url == "https://www.ebay.com/sch/i.html?_nkw=rumours&_pgn=2"
    last = '<nav class="pagination"><button class="pagination__next" aria-disabled="true"></button></nav>'
    assert parse_search_page(page(s_card(), more=last), URL).next_url is None


def test_search_url_and_item_ids():
    url = search_url("https://www.ebay.com/", "fleetwood  mac rumours", page=3, per_page=120, category=176985)
    assert url.startswith("https://www.ebay.com/sch/i.html?")
    for part in ("_nkw=fleetwood+mac+rumours", "LH_Sold=1", "LH_Complete=1", "_sacat=176985", "_pgn=3", "_ipg=120"):
        assert part in url
    with pytest.raises(ValueError):
        search_url("https://www.ebay.com", "x", per_page=50)
    with pytest.raises(ValueError):
        search_url("https://www.ebay.com", " ")
    assert listing_id_from_url("https://www.ebay.com/itm/Fleetwood-Mac-Rumours/186012345678?hash=x") == "186012345678"
    assert listing_id_from_url("https://www.ebay.com/b/Vinyl-Records/176985") is None


ITEM = """<html><head><title>Rumours | eBay</title></head><body>
<div class="d-statusmessage"><span class="ux-textspans">This listing sold on {when}.</span></div>
<h1 class="x-item-title__mainTitle"><span class="ux-textspans">Fleetwood Mac – Rumours LP 1977</span></h1>
<div class="ux-image-carousel">
 <div class="ux-image-carousel-item"><img src="https://i.ebayimg.com/images/g/AAA/s-l1600.jpg"></div>
 <div class="ux-image-carousel-item"><img data-src="https://i.ebayimg.com/images/g/BBB/s-l1600.jpg" src="data:image/gif;base64,R0"></div>
 <div class="ux-image-carousel-item"><img src="https://i.ebayimg.com/images/g/AAA/s-l1600.jpg"></div>
</div>
<div class="x-price-primary"><span class="ux-textspans">US $24.99</span></div>
<div class="x-item-condition-text"><span class="ux-textspans">Used</span></div>
<div class="ux-labels-values ux-labels-values--shipping"><div class="ux-labels-values__labels">Shipping:</div>
<div class="ux-labels-values__values"><span class="ux-textspans--BOLD">US $4.87</span> Economy Shipping.
<span>Located in: Henderson, Nevada, United States</span></div></div>
{specifics}
</body></html>"""
SPECIFICS = "".join(
    f'<dl class="ux-labels-values"><dt class="ux-labels-values__labels">{k}</dt><dd class="ux-labels-values__values">{v}</dd></dl>'
    for k, v in [("Artist", "Fleetwood Mac"), ("Release Year", "1977"), ("Record Grading", "Very Good Plus (VG+)"),
                 ("Sleeve Grading", "E-"), ("Format", "Vinyl"), ("Genre", "Rock"), ("Record Label", "Warner Bros."),
                 ("Catalog Number", "BSK 3010"), ("Speed", "33 RPM")])


def test_item_page_gives_specifics_gallery_price_date_shipping_condition():
    html = ITEM.format(when="Jul 20, 2026 15:12:08 PDT", specifics=SPECIFICS)
    d = parse_item_page(html, "https://www.ebay.com/itm/186012345678")
    assert d.listing_id == "186012345678" and d.sold is True
    assert d.sold_at.isoformat() == "2026-07-20T22:12:08+00:00"
    assert (d.price, d.currency, d.shipping_cost, d.condition_text) == (24.99, "USD", 4.87, "Used")
    assert d.location == "Henderson, Nevada, United States"
    assert d.image_urls == ["https://i.ebayimg.com/images/g/AAA/s-l1600.jpg", "https://i.ebayimg.com/images/g/BBB/s-l1600.jpg"]
    assert (d.artist, d.release_year, d.record_grading, d.sleeve_grading) == ("Fleetwood Mac", "1977", "Very Good Plus (VG+)", "E-")
    assert (d.format, d.genre, d.label, d.catalog_number) == ("Vinyl", "Rock", "Warner Bros.", "BSK 3010")
    assert d.specifics["Speed"] == "33 RPM"


def test_item_page_that_ended_unsold():
    html = ITEM.format(when="x", specifics="").replace("This listing sold on x.", "This listing ended on Jul 19, 2026 09:00:00 PDT. The item did not sell.")
    d = parse_item_page(html, "https://www.ebay.com/itm/186012345678")
    assert d.sold is False and d.sold_at.day == 19


def test_item_page_id_from_the_page_when_saved_without_a_url():
    html = ITEM.format(when="Jul 20, 2026", specifics="") + (
        '<div class="ux-layout-section__textual-display--itemId"><span class="ux-textspans--BOLD">186012345679</span></div>')
    assert parse_item_page(html, "").listing_id == "186012345679"


@pytest.mark.parametrize("html, reason", [
    ("<html><head><title>Pardon Our Interruption</title></head></html>", "blocked"),
    (ITEM.format(when="Jul 20, 2026", specifics="").replace("US $24.99", "see description"), "price"),
    (ITEM.format(when="Jul 20, 2026", specifics="").replace("This listing sold on", "Buy it now"), "status"),
])
def test_item_pages_that_cannot_be_read_say_why(html, reason):
    with pytest.raises(ItemPageError, match=reason):
        parse_item_page(html, "https://www.ebay.com/itm/186012345678")
