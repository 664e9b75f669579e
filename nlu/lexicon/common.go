package lexicon

import (
	_ "embed"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/charlabot/charla/nlu/normalize"
)

// The frequent words of each language (common_es.txt, common_en.txt):
// real words a model may not have seen, which the speller must leave as
// they are.

//go:embed common_es.txt
var commonES string

//go:embed common_en.txt
var commonEN string

// Common is the set of frequent Spanish and English words, folded, with
// their plurals, and the stems of the longer ones in each language.
type Common struct {
	words map[string]bool
	stems [2]map[string]bool // es, en: stems of words of minStemWord letters or more
}

// minStemWord is the shortest word whose inflections are recognised by
// stem: short stems are shared by unrelated words (the stem of "tala", a
// misspelt "talla", is "tal").
const minStemWord = 6

var (
	commonOnce sync.Once
	common     *Common
)

// CommonWords returns the built-in frequent words.
func CommonWords() *Common {
	commonOnce.Do(func() {
		common = &Common{words: map[string]bool{}, stems: [2]map[string]bool{{}, {}}}
		for i, src := range [2]string{commonES, commonEN} {
			lang := [2]string{"es", "en"}[i]
			for _, line := range strings.Split(src, "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "#") {
					continue
				}
				for _, w := range strings.Fields(line) {
					w = normalize.Fold(strings.ToLower(w))
					common.words[w] = true
					for _, p := range plurals(w) {
						common.words[p] = true
					}
					if utf8.RuneCountInString(w) >= minStemWord {
						common.stems[i][normalize.Fold(normalize.Stem(w, lang))] = true
					}
				}
			}
		}
	})
	return common
}

// plurals returns the plural forms of w in either language: "-s" after a
// vowel; "-s" (English) and "-es" (Spanish) after a consonant; "-ces" for
// a final z; none after s.
func plurals(w string) []string {
	switch w[len(w)-1] {
	case 'a', 'e', 'i', 'o', 'u':
		return []string{w + "s"}
	case 's':
		return nil
	case 'z':
		return []string{w[:len(w)-1] + "ces"}
	}
	return []string{w + "s", w + "es"}
}

// Has reports whether the folded word w is a frequent word of either
// language: one of the list or its plural ([Common.HasWord]), or an
// inflection of one ([Common.HasStem]).
func (c *Common) Has(w string) bool { return c.HasWord(w) || c.HasStem(w) }

// HasWord reports whether the folded word w is in the list, or the plural
// of a word in it.
func (c *Common) HasWord(w string) bool { return c.words[w] }

// HasStem reports whether the folded word w, of minStemWord letters or
// more, has the stem of a listed word of as many letters in its language
// ("devolvieron" of "devolver", "shipped" of "shipping").
func (c *Common) HasStem(w string) bool {
	if utf8.RuneCountInString(w) < minStemWord {
		return false
	}
	return c.stems[0][normalize.Fold(normalize.Stem(w, "es"))] || c.stems[1][normalize.Fold(normalize.Stem(w, "en"))]
}
