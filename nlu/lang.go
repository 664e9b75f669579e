package nlu

import (
	"slices"
	"strings"

	"github.com/charlabot/charla/nlu/normalize"
)

// Function words that tell Spanish and English apart (folded).
var stopwords = map[string][]string{
	"es": strings.Fields("el la los las un una de del que y en por para con mi mis me se lo le su es esta estan como donde cuando quiero puedo hola gracias si no pero porque tengo hay ya muy mas tu usted ustedes buenas buenos dias tardes noches pedido talla quiero necesito favor"),
	"en": strings.Fields("the a an of to and in for with my me is are was it this that what where when how i you your can do does have has want need please hi hello thanks thank yes order size not but be will would could"),
}

// language picks the language of a message: the hint when it is one of the
// bot's languages (or its base: "es-AR" → "es"), the only language when
// there is one, and otherwise the language whose function words and known
// words the message uses most (the default language on a tie).
func (u *Understander) language(hint, text string) string {
	if hint != "" {
		h := strings.ToLower(hint)
		if slices.Contains(u.langs, h) {
			return h
		}
		if i := strings.IndexAny(h, "-_"); i > 0 && slices.Contains(u.langs, h[:i]) {
			return h[:i]
		}
	}
	if len(u.langs) <= 1 {
		if len(u.langs) == 0 {
			return hint
		}
		return u.langs[0]
	}
	return u.detect(text)
}

func (u *Understander) detect(text string) string {
	folded := normalize.Fold(normalize.Clean(truncate(text, maxClassifyRunes)))
	words := strings.FieldsFunc(folded, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 0x7f && !normalize.IsEmoji(r))
	})
	best, bestScore := u.langs[0], 0.0
	for _, lang := range u.langs {
		score := 0.0
		sw := stopwords[lang]
		lm := u.models[lang]
		for _, w := range words {
			if slices.Contains(sw, w) {
				score += 2
			}
			if lm != nil && lm.words[w] {
				score++
			}
		}
		if lang == "es" && strings.ContainsAny(text, "ñÑ¿¡áéíóúÁÉÍÓÚ") {
			score += 2
		}
		if score > bestScore {
			best, bestScore = lang, score
		}
	}
	return best
}
