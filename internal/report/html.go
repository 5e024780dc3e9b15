package report

import (
	"bytes"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// savePlot writes the plot as file (PNG, for report.md) and beside it as
// SVG (the same name with .svg), which the HTML report embeds.
func savePlot(p *plot.Plot, w, h vg.Length, file string) error {
	if err := p.Save(w, h, file); err != nil {
		return err
	}
	return p.Save(w, h, strings.TrimSuffix(file, filepath.Ext(file))+".svg")
}

// imgTag is an image as goldmark renders markdown's ![alt](src).
var imgTag = regexp.MustCompile(`<img src="([^"]+)\.png" alt="([^"]*)"\s*/?>`)

// htmlStyle keeps the page readable offline: no fonts or scripts fetched.
const htmlStyle = `body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:90%}th,td{border:1px solid #bbb;padding:3px 7px}th{background:#eee}
td{text-align:right}td:first-child,td:nth-child(2){text-align:left}
pre{background:#f6f6f6;padding:.7em;overflow-x:auto}figure{margin:1em 0}figure svg{max-width:100%;height:auto}
figcaption{font-size:85%;color:#555}`

// WriteHTML makes dir/htmlName from dir/mdName: the markdown as HTML
// (GitHub's tables), each plot's PNG replaced by its SVG inline, so that
// the one file shows everything without network access or the plots
// folder.
func WriteHTML(dir, mdName, htmlName, title string) error {
	md, err := os.ReadFile(filepath.Join(dir, mdName))
	if err != nil {
		return err
	}
	var body bytes.Buffer
	if err := goldmark.New(goldmark.WithExtensions(extension.GFM)).Convert(md, &body); err != nil {
		return fmt.Errorf("%s: %w", mdName, err)
	}
	var missing error
	page := imgTag.ReplaceAllFunc(body.Bytes(), func(tag []byte) []byte {
		m := imgTag.FindSubmatch(tag)
		src, alt := string(m[1]), string(m[2])
		svg, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(html.UnescapeString(src))+".svg"))
		if err != nil {
			missing = err
			return tag
		}
		if i := bytes.Index(svg, []byte("<svg")); i > 0 {
			svg = svg[i:] // the XML declaration has no place inside HTML
		}
		return []byte(fmt.Sprintf("<figure>%s<figcaption>%s</figcaption></figure>", svg, alt))
	})
	if missing != nil {
		return fmt.Errorf("%s: a plot's SVG: %w", htmlName, missing)
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n<style>\n%s\n</style>\n</head>\n<body>\n", html.EscapeString(title), htmlStyle)
	out.Write(page)
	out.WriteString("</body>\n</html>\n")
	return os.WriteFile(filepath.Join(dir, htmlName), out.Bytes(), 0o644)
}
