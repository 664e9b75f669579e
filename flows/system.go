package flows

import (
	"embed"

	"github.com/charlabot/charla/engine"
)

// The default system flows, written in the flow language and compiled by
// the same compiler, in Spanish and English. A bot overrides one by
// declaring a flow of the role's name, or by mapping the role to another
// flow in bot.yaml (system: {human: handoff}).
//
//go:embed system/*.yaml
var systemFS embed.FS

// DefaultSystemFlow returns the source of the default flow for role.
func DefaultSystemFlow(role engine.SystemRole) ([]byte, error) {
	return systemFS.ReadFile("system/" + string(role) + ".yaml")
}

// addSystemFlows parses the default flow of every role the bot leaves
// open, and maps every role to its flow.
func (c *compiler) addSystemFlows() {
	c.prog.System = map[engine.SystemRole]string{}
	for _, role := range engine.SystemRoles {
		if m, ok := c.bot.system[role]; ok {
			if c.flowByName[m.s] == nil {
				c.errN(m.at, "system: unknown flow %q for role %s%s", m.s, role, didYouMean(m.s, sortedKeys(c.flowByName)))
				continue
			}
			c.prog.System[role] = m.s
			continue
		}
		name := string(role)
		if c.flowByName[name] == nil {
			src, err := DefaultSystemFlow(role)
			if err != nil {
				panic("flows: missing default system flow " + name)
			}
			f := c.parseYAML("(default)/"+name+".yaml", src)
			f.lenient = true
			c.parseFlowFile(f)
		}
		c.prog.System[role] = name
	}
}
