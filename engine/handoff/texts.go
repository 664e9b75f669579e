package handoff

import (
	"fmt"
	"math"
	"time"

	"github.com/charlabot/charla/engine"
)

// What the desk says to shoppers, by name, Spanish first. A bot overrides
// any of them in bot.yaml (handoff: texts:); the placeholders are queue
// (the queue's title), position, wait (an estimate in words), agent and
// leave (the command that leaves the queue).
var builtinTexts = map[string]engine.Text{
	"queued": {
		"es": engine.MustTemplate("Estás en el lugar {{ position }} de la fila de {{ queue }}. Tiempo estimado de espera: {{ wait }}. Si prefieres volver con el asistente, escribe «{{ leave }}»."),
		"en": engine.MustTemplate("You are number {{ position }} in the {{ queue }} queue. Estimated wait: {{ wait }}. To go back to the assistant, type \"{{ leave }}\"."),
	},
	"position": {
		"es": engine.MustTemplate("Ahora estás en el lugar {{ position }} de la fila. Tiempo estimado: {{ wait }}."),
		"en": engine.MustTemplate("You are now number {{ position }} in the queue. Estimated wait: {{ wait }}."),
	},
	"next": {
		"es": engine.MustTemplate("¡Eres el siguiente! En un momento te atiende una persona."),
		"en": engine.MustTemplate("You're next! Someone will be with you shortly."),
	},
	"no_agents": {
		"es": engine.MustTemplate("Estás en el lugar {{ position }} de la fila de {{ queue }}. Ahora mismo no hay nadie conectado; te atenderán en cuanto alguien esté disponible. Si prefieres volver con el asistente, escribe «{{ leave }}»."),
		"en": engine.MustTemplate("You are number {{ position }} in the {{ queue }} queue. Nobody is online right now; someone will be with you as soon as they are available. To go back to the assistant, type \"{{ leave }}\"."),
	},
	"assigned": {
		"es": engine.MustTemplate("Hola, te atiende {{ agent }}."),
		"en": engine.MustTemplate("Hi, {{ agent }} is here to help you."),
	},
	"after_hours": {
		"es": engine.MustTemplate("En este momento nuestro equipo de {{ queue }} no está disponible."),
		"en": engine.MustTemplate("Our {{ queue }} team is not available right now."),
	},
	"offer_message": {
		"es": engine.MustTemplate("¿Quieres dejarnos un mensaje? Te responderemos por aquí en cuanto podamos."),
		"en": engine.MustTemplate("Would you like to leave us a message? We'll answer here as soon as we can."),
	},
	"leave_message": {
		"es": engine.MustTemplate("Escribe tu mensaje y una persona del equipo lo verá en cuanto pueda."),
		"en": engine.MustTemplate("Write your message and someone from the team will read it as soon as they can."),
	},
	"message_taken": {
		"es": engine.MustTemplate("Gracias, recibimos tu mensaje. Te responderemos por este medio."),
		"en": engine.MustTemplate("Thank you, we got your message. We'll answer you here."),
	},
	"transferred": {
		"es": engine.MustTemplate("Te paso con el equipo de {{ queue }}. No tienes que repetir nada: verán toda la conversación."),
		"en": engine.MustTemplate("I'm passing you to the {{ queue }} team. No need to repeat anything: they will see the whole conversation."),
	},
	"timeout": {
		"es": engine.MustTemplate("Lo siento, nadie del equipo puede atenderte ahora. Déjanos tu mensaje y te responderemos por aquí en cuanto podamos."),
		"en": engine.MustTemplate("Sorry, nobody from the team can answer right now. Leave us a message and we'll answer here as soon as we can."),
	},
	"button_message": {
		"es": engine.MustTemplate("Dejar un mensaje"),
		"en": engine.MustTemplate("Leave a message"),
	},
	"button_bot": {
		"es": engine.MustTemplate("Volver al asistente"),
		"en": engine.MustTemplate("Back to the assistant"),
	},
}

// The values of the buttons the desk offers after hours.
const (
	ChoiceLeaveMessage = "handoff:message"
	ChoiceBackToBot    = "handoff:bot"
)

// say renders the text named name in lang: the bot's own version when it
// has one, else the built-in.
func (d *Desk) text(p *engine.Program, name, lang string, vars map[string]any) string {
	if vars == nil {
		vars = map[string]any{}
	}
	if _, ok := vars["leave"]; !ok {
		vars["leave"] = leaveCommand(p, lang)
	}
	def := "es"
	if p != nil {
		def = p.DefaultLang()
		if t, ok := p.Handoff.Texts[name]; ok && len(t) > 0 {
			if s, err := t.Render(lang, def, vars); err == nil && s != "" {
				return s
			}
		}
	}
	if lang != "es" && lang != "en" {
		lang = def
	}
	if lang != "es" && lang != "en" {
		lang = "es"
	}
	s, _ := builtinTexts[name].Render(lang, "es", vars)
	return s
}

// waitWords says an estimated wait in words; ok is false when there is no
// estimate (nobody online).
func waitWords(d time.Duration, lang string) string {
	en := lang == "en"
	m := int(math.Ceil(d.Minutes()))
	switch {
	case d < time.Minute:
		if en {
			return "less than a minute"
		}
		return "menos de un minuto"
	case m == 1:
		if en {
			return "about 1 minute"
		}
		return "cerca de 1 minuto"
	case m > 60:
		if en {
			return "more than an hour"
		}
		return "más de una hora"
	}
	if en {
		return fmt.Sprintf("about %d minutes", m)
	}
	return fmt.Sprintf("unos %d minutos", m)
}

// leaveCommand is the command a shopper types to leave the queue, as the
// texts suggest it: the first of handoff.leave, else the cancel flow's
// keyword in the shopper's language.
func leaveCommand(p *engine.Program, lang string) string {
	if p != nil && len(p.Handoff.Leave) > 0 {
		return p.Handoff.Leave[0]
	}
	if lang == "en" {
		return "cancel"
	}
	return "cancelar"
}
