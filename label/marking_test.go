package label

import "testing"

func TestPortionAndSystemMarkings(t *testing.T) {
	r, err := NewRegistry(DefaultConfig("GBR"))
	if err != nil {
		t.Fatal(err)
	}
	for banner, want := range map[string]string{
		"NATO SECRET // REL TO GBR, USA":                   "(NS//REL GBR,USA)",
		"NATO RESTRICTED":                                  "(NR)",
		"COSMIC TOP SECRET // COMPARTMENTS HERON // ORCON": "(CTS//HERON//ORCON)",
		"GBR SECRET // NOFORN // DISC SIGINT":              "(GBR S//NOFORN)",
	} {
		l, err := r.ParseBanner(banner)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Portion(l); got != want {
			t.Errorf("Portion(%s) = %q, want %q", banner, got, want)
		}
	}
	if r.SystemHigh() != "COSMIC TOP SECRET" || r.SystemLow() != "NATO UNCLASSIFIED" {
		t.Errorf("system high/low = %q/%q", r.SystemHigh(), r.SystemLow())
	}
	if r.Colour("NATO", "SECRET") != "#c8102e" || r.Colour("NATO", "UNCLASSIFIED") != "#007a33" || r.Colour("X", "Y") != "#555555" {
		t.Errorf("colours: %s %s", r.Colour("NATO", "SECRET"), r.Colour("NATO", "UNCLASSIFIED"))
	}

	cfg := DefaultConfig("GBR")
	cfg.SystemHigh, cfg.SystemLow = "nato secret", "NATO RESTRICTED"
	cfg.Policies[0].Levels[0].Portion, cfg.Policies[0].Levels[0].Colour = "", "#123456"
	r, err = NewRegistry(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r.SystemHigh() != "NATO SECRET" || r.SystemLow() != "NATO RESTRICTED" {
		t.Errorf("configured system high/low = %q/%q", r.SystemHigh(), r.SystemLow())
	}
	if l, _ := r.ParseBanner("NATO UNCLASSIFIED"); r.Portion(l) != "(NU)" || r.Colour("NATO", "UNCLASSIFIED") != "#123456" {
		t.Errorf("derived portion %q, colour %q", r.Portion(l), r.Colour("NATO", "UNCLASSIFIED"))
	}
	for _, bad := range []func(*Config){
		func(c *Config) { c.SystemHigh = "NATO NOTHING" },
		func(c *Config) { c.Policies[0].Levels[1].Colour = "red;}body{" },
		func(c *Config) { c.Policies[0].Levels[1].Portion = "N(S)" },
	} {
		c := DefaultConfig("GBR")
		bad(&c)
		if _, err := NewRegistry(c); err == nil {
			t.Errorf("NewRegistry accepted %+v", c.Policies[0].Levels[1])
		}
	}
}
