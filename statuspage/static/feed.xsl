<?xml version="1.0" encoding="UTF-8"?>
<!-- A feed (Atom or RSS 2.0) opened in a browser, shown as a page: what a feed is, how to follow
     it, and its latest entries. Feed readers never read this file; browsers that do not run XSLT
     show the feed as it is. No script, and only the site's own stylesheet. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="UTF-8" indent="yes" doctype-system="about:legacy-compat"/>

  <xsl:variable name="title" select="/atom:feed/atom:title | /rss/channel/title"/>
  <xsl:variable name="page" select="/atom:feed/atom:link[@rel='alternate']/@href | /rss/channel/link"/>
  <xsl:variable name="self" select="/atom:feed/atom:link[@rel='self']/@href | /rss/channel/atom:link[@rel='self']/@href"/>
  <xsl:variable name="kind">
    <xsl:choose>
      <xsl:when test="/atom:feed">Atom</xsl:when>
      <xsl:otherwise>RSS</xsl:otherwise>
    </xsl:choose>
  </xsl:variable>

  <xsl:template match="/">
    <html lang="en">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/> (<xsl:value-of select="$kind"/> feed)</title>
        <link rel="stylesheet" href="/static/site.css"/>
      </head>
      <body>
        <header class="site-header">
          <div class="wrap">
            <a class="site-name" href="{$page}"><xsl:value-of select="$title"/></a>
          </div>
        </header>
        <main id="main" class="wrap">
          <h1><xsl:value-of select="$title"/></h1>
          <section class="get-updates" aria-labelledby="what-is-a-feed">
            <h2 id="what-is-a-feed">This is a news feed</h2>
            <p>A feed lists the latest updates in a form that feed reader apps understand. Follow it
              in a feed reader and new updates appear there as they are published: no sign-up, no
              email address.</p>
            <p>To follow it, copy this address into your feed reader:</p>
            <p><code class="feed-address"><xsl:value-of select="$self"/></code></p>
            <p><a href="{$page}">See the status page</a> · <a href="/subscribe">Get updates by email instead</a></p>
          </section>
          <h2>Latest updates</h2>
          <xsl:choose>
            <xsl:when test="/atom:feed/atom:entry | /rss/channel/item">
              <ul class="incident-list">
                <xsl:apply-templates select="/atom:feed/atom:entry | /rss/channel/item"/>
              </ul>
            </xsl:when>
            <xsl:otherwise>
              <p>Nothing has been published here yet.</p>
            </xsl:otherwise>
          </xsl:choose>
        </main>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="atom:entry">
    <li>
      <a href="{atom:link/@href}"><xsl:value-of select="atom:title"/></a>
      <span class="meta">
        <xsl:value-of select="atom:author/atom:name"/> ·
        <time datetime="{atom:updated}">
          <xsl:value-of select="concat(substring(atom:updated, 1, 10), ' ', substring(atom:updated, 12, 5), ' UTC')"/>
        </time>
      </span>
    </li>
  </xsl:template>

  <xsl:template match="item">
    <li>
      <a href="{link}"><xsl:value-of select="title"/></a>
      <span class="meta"><xsl:value-of select="pubDate"/></span>
    </li>
  </xsl:template>
</xsl:stylesheet>
