package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pioreactor/pioreactord/pkg/config"
)

// TestDashboardLogin: with [ui_basic_auth] api_key set (here in a --sim config, which --demo's
// own set-up calls must then carry too), the page itself loads without the key and asks for
// it in its own form; a wrong key is refused on the page, the right one opens the overview,
// and a fresh load of another page remembers it.
func TestDashboardLogin(t *testing.T) {
	chromiumPath(t)
	conf := filepath.Join(t.TempDir(), "config.ini")
	text := append(config.Template(), "\n[ui_basic_auth]\napi_key=s3cret-key\n"...)
	if err := os.WriteFile(conf, text, 0o600); err != nil {
		t.Fatal(err)
	}
	c := startCluster(t, "--config", conf, "--units", "1", "--demo")
	b := newTab(t, c)
	b.do("open / without a key", chromedp.Navigate(b.base+"/"), chromedp.WaitVisible(chromedp.CSS(`input[name=api_key]`)))
	b.typeInto(`input[name=api_key]`, "not-the-key")
	b.click(`.login button[type=submit]`)
	b.waitJS("the wrong key refused on the page", `document.body.innerText.includes('That key was refused')`)
	b.typeInto(`input[name=api_key]`, "s3cret-key")
	b.click(`.login button[type=submit]`)
	b.waitVisible(`section.page[data-page=overview]`)
	b.open("/pioreactors", "pioreactors")
	b.waitVisible(`article.unit-card[data-unit="pio01"]`)
}
